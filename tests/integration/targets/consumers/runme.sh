#!/usr/bin/env bash
# Consumers of new access keys, as real processes on loopback: the role
# access_key_rotation hands each user's new key to a small HTTP service
# (consumer_service.py) by an HTTP push and through a credentials file; the
# service signs STS GetCallerIdentity with it against the stub. Then a
# consumer that fails, and a run killed between two consumers and run again.
# See consumers_driver.py.
#
# ansible-test runs this from the target's directory with its verbosity
# (-vvvv) as arguments; the stub's endpoint is in integration_config.yml.
set -eux
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT
python consumers_driver.py "$(pwd)/../../integration_config.yml" "${work}" "$@"
