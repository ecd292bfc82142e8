#!/usr/bin/env bash
# Answers lost after AWS applied the call, for every mutating call of the
# access key and console password flows, on every attempt and on the first
# only; the exact state after each, then a repair run and a scheduled run:
# see lost_answers.py.
#
# ansible-test runs this from the target's directory with its verbosity
# (-vvvv) as arguments; the stub's endpoint is in integration_config.yml.
set -eux
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT
python lost_answers.py "$(pwd)/../../integration_config.yml" "${work}" "$@"
