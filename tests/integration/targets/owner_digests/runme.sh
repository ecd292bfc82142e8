#!/usr/bin/env bash
# The role owner_notice over two AWS accounts of the stub (123456789012, and 222222222222 through an assumed
# role), after the role access_key_rotation, on SNS (moto records what was published) and a webhook (a receiver
# process on 127.0.0.1, stopped by its PID):
#   1. --check: the digests are built, nothing is sent;
#   2. a forced run: each owner (a user tag, a host's rotator_owner, an account tag) gets exactly one digest on
#      each channel, listing its users across both accounts; a failed user is told;
#   3. the same again with only_when_changed: nothing new (the same failure), nothing sent.
# check.py checks each stage and searches every digest, the results and the -vvvv log for every secret the stub
# saw; run_integration.py searches the whole output again.
set -eux
set -o pipefail

config="$(pwd)/../../integration_config.yml"
work=$(mktemp -d)
receiver_pid=""
cleanup() {
  if [ -n "${receiver_pid}" ]; then kill "${receiver_pid}"; wait "${receiver_pid}" || true; fi
  rm -rf -- "${work}"
}
trap cleanup EXIT

setting() {
  python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "${config}" "$1"
}
AWS_ENDPOINT_URL=$(setting aws_endpoint_url)
AWS_ACCESS_KEY_ID=$(setting aws_access_key)
AWS_SECRET_ACCESS_KEY=$(setting aws_secret_key)
AWS_REGION=$(setting aws_region)
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_MAX_ATTEMPTS=3

python seed.py "${config}" >"${work}/seed.json"
cat "${work}/seed.json"
topic=$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["topic"])' "${work}/seed.json")

python receiver.py "${work}/bodies.jsonl" "${work}/port" &
receiver_pid=$!
for _ in $(seq 100); do test -f "${work}/port" && break; sleep 0.1; done
port=$(cat "${work}/port")

# In a file: -vvvv prints the command line's extra variables, and the token must not be shown.
python -c 'import json, sys; json.dump({
    "rotator_owner_channels": ["sns", "webhook"], "rotator_owner_sns_topic_arn": sys.argv[1],
    "rotator_owner_webhook_url": "http://127.0.0.1:%s/hooks/rotation" % sys.argv[2],
    "rotator_owner_webhook_token": "owner-digests-hook-token", "rotator_owner_due_within_days": 3,
    "rotator_owner_only_when_changed": True, "rotator_force": True}, open(sys.argv[3], "w"))' \
  "${topic}" "${port}" "${work}/extra.json"
playbook=(ansible-playbook -i inventory.yml "$@" run.yml -e "@${work}/extra.json")

for stage in check first again; do
  flags=()
  if [ "${stage}" = check ]; then flags=(--check); fi
  rc=0
  "${playbook[@]}" "${flags[@]}" -e "results_file=${work}/${stage}.json" >"${work}/${stage}.log" 2>&1 || rc=$?
  cat "${work}/${stage}.log"
  # bob's two active keys fail acct-main at the end, after the owners were told.
  test "${rc}" -eq 2
  grep -Eq '^acct-main +: .*failed=1 ' "${work}/${stage}.log"
  grep -Eq '^acct-dev +: .*failed=0 ' "${work}/${stage}.log"
  python check.py "${stage}" "${work}" "${config}"
done
