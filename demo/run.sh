#!/usr/bin/env bash
# A real rotation in a minute: starts a local AWS stub (moto on loopback)
# with two demo accounts, runs playbooks/rotate.yml against it twice (the
# second run has nothing to do), then stops the stub. The first run hands
# alice's new key to her consumer (an application's credentials file under
# .demo/billing-app/) and sends each owner one digest on the stub's SNS topic;
# demo/show.py prints both, without a secret.
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "${repo}"
# shellcheck source=scripts/lib.sh
source "${repo}/scripts/lib.sh"
setup_venv "${repo}"

work="${repo}/.demo"
rm -rf "${work}"
mkdir -p "${work}/collections/ansible_collections/rotator"
ln -s "${repo}" "${work}/collections/ansible_collections/rotator/aws_iam"
state="${work}/stub.json"

log "starting the local AWS stub"
endpoint=$(python tests/support/stubctl.py --state-file "${state}" start)
trap 'python tests/support/stubctl.py --state-file "${state}" stop' EXIT
python demo/seed.py "${state}"

export ANSIBLE_COLLECTIONS_PATH="${work}/collections"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export AWS_ENDPOINT_URL="${endpoint}" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=us-east-1
export ROTATOR_DEMO_DIR="${work}"

log "first run: keys and passwords older than 90 days are rotated (new secrets stored in Secrets Manager, verified)"
ansible-playbook -i demo/inventory.yml playbooks/rotate.yml --diff
log "what the consumer received and what the owners were told (key IDs only, never a secret)"
python demo/show.py "${state}" "${work}/billing-app"
log "second run: nothing is due, nothing changes"
ansible-playbook -i demo/inventory.yml playbooks/rotate.yml
