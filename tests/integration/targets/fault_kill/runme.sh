#!/usr/bin/env bash
# Crash matrix by SIGKILL: for access keys and console passwords, each AWS call
# of a full rotation in turn is held open by the stub (mode hang: before it
# reaches AWS; hang-response: after AWS acted, for the calls that change
# something) and the ansible-playbook process group, module included, is
# killed with SIGKILL.  Reruns must repair: see kill_matrix.py.
#
# ansible-test runs this from the target's directory with its verbosity
# (-vvvv) as arguments; the stub's endpoint is in integration_config.yml.
set -eux
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT
python kill_matrix.py "$(pwd)/../../integration_config.yml" "${work}" "$@"
