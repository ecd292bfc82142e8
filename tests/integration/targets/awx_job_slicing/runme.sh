#!/usr/bin/env bash
# AWX job slicing, as AWX runs it, with ansible-runner (AWX's job engine),
# with the report kept in a persistent destination: rotate.yml + report.yml
# over five AWS accounts of the stub in two slices (one ansible-runner job
# per slice, side by side, each in its own private data directory with AWX's
# credential variables in env/envvars, each limited to the hosts AWX gives
# its slice), then playbooks/report_merge.yml as the workflow node after the
# sliced job, reading the slices from an S3 bucket of the stub and writing
# the merged report there; then the same with a directory. drive_slices.py
# seeds the accounts, runs the jobs and checks: every account in exactly one
# slice, every due user's key created exactly once, one merged report listing
# every account once, every object encrypted (AES256), files of mode 0640, a
# relaunched slice refused, a slice missing named, a directory inside a job's
# private data directory refused and AWX with no destination failing before
# anything is written, no credential and no secret in any report, and no
# report in any job's directory.
#
# ansible-test runs this script from the target's directory in its temporary
# copy of the collection, with ANSIBLE_COLLECTIONS_PATH pointing at the
# collection. The stub's endpoint and credentials are in integration_config.yml,
# two levels up.
set -eux
set -o pipefail

config="$(pwd)/../../integration_config.yml"
collection="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/rotator/aws_iam"
test -f "${collection}/playbooks/report_merge.yml"
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT

python drive_slices.py --config "${config}" --work "${work}" --slices 2
