#!/usr/bin/env bash
# Two ansible-playbook runs over the same users at the same moment: see overlap.py.
#
# ansible-test runs this from the target's directory with its verbosity
# (-vvvv) as arguments; the stub's endpoint is in integration_config.yml.
set -eux
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT
python overlap.py "$(pwd)/../../integration_config.yml" "${work}" "$@"
