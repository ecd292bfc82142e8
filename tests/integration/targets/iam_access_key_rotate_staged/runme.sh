#!/usr/bin/env bash
# The staged access key rotation (rotate 90, deactivate 7, delete 7 days) over
# simulated time.  Each simulated day moves two clocks: the AWS stub's (so new
# keys get their CreateDate in the simulated present) and, with faketime, the
# clock of ansible-playbook and of the modules it starts (so ages are computed
# in the simulated present).
#
# ansible-test runs this script from the target's directory in its temporary
# copy of the collection, with its verbosity (-vvvv) as arguments and
# INVENTORY_PATH in the environment.  The variables of integration_config.yml
# (the stub's endpoint and credentials, stubctl) are not passed to playbooks
# started from here; ansible-test copies that file two levels up, so pass it.
set -eux

work_dir=$(mktemp -d)
trap 'rm -rf -- "${work_dir}"' EXIT
playbook=(ansible-playbook -i "${INVENTORY_PATH}" -e "@$(pwd)/../../integration_config.yml"
          -e "work_dir=${work_dir}" "$@")

# Real time: reset AWS, seed the users; nothing is due yet.
"${playbook[@]}" seed.yml

# Days 100, 108 and 116 are the three steps of the rotation.  staged-bob's
# old key is used after day 100, so he waits for its consumers until day 122
# (7 + 14 days after his new key) and his old key is deleted on day 130.
for day in 100 108 116 122 130; do
  faketime -f "+${day}d" "${playbook[@]}" -e "{\"day\": ${day}, \"real_epoch\": $(date +%s)}" day.yml
done
