#!/usr/bin/env bash
# AWX job slicing, as AWX runs it, with ansible-runner (AWX's job engine):
# rotate.yml + report.yml over five AWS accounts of the stub in three slices
# (one ansible-runner job per slice, side by side, each limited to the hosts
# AWX gives its slice), then playbooks/report_merge.yml as the workflow node
# after the sliced job. drive_slices.py seeds the accounts, runs the jobs and
# checks: every account in exactly one slice, every due user's key created
# exactly once (CreateAccessKey counted per account and user from the stub's
# call log), one merged report listing every account once with its users, a
# relaunched slice refused, a slice missing named, and no secret in any
# artifact.
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

python drive_slices.py --config "${config}" --work "${work}" --slices 3
