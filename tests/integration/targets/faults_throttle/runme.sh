#!/usr/bin/env bash
# Throttling, 5xx, dropped connections and latency at a seeded rate, and IAM's
# eventual consistency for new keys: see faults.py.
#
# ansible-test runs this from the target's directory with its verbosity
# (-vvvv) as arguments; the stub's endpoint is in integration_config.yml.
set -eux
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT
python faults.py "$(pwd)/../../integration_config.yml" "${work}" "$@"
