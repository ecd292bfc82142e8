#!/usr/bin/env bash
# The full flow as a principal that holds only docs/iam-policy.json, with moto's
# auth enforcement on; and a principal lacking one action fails clearly: see
# least_privilege.py.  The repository's docs/ are found from the collection root.
#
# ansible-test runs this from the target's directory with its verbosity
# (-vvvv) as arguments; the stub's endpoint is in integration_config.yml.
set -eux
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT
collection="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/rotator/aws_iam"
test -f "${collection}/docs/iam-policy.json"
DOCS_DIR="${collection}/docs" python least_privilege.py "$(pwd)/../../integration_config.yml" "${work}" "$@"
