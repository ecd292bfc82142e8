#!/usr/bin/env bash
# The way back, through playbooks/restore_old_key.yml and playbooks/rotate.yml
# against the stub: see restore_driver.py.
#
# ansible-test runs this from the target's directory with its verbosity
# (-vvvv) as arguments; the stub's endpoint is in integration_config.yml.
set -eux
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT
python restore_driver.py "$(pwd)/../../integration_config.yml" "${work}" "$@"
