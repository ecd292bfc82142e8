#!/usr/bin/env bash
# playbooks/rotate.yml over three AWS accounts of the stub (123456789012, and
# 222222222222 and 333333333333 through an assumed role), with the connection
# in the environment as AWX's AWS credential provides it:
#   1. --check --diff: the plan, recorded per account by run.yml;
#   2. the real run: check_runs.py compares it with the plan, user by user;
#   3. a second real run (ansible-playbook rotator.aws_iam.rotate): changed=0 for
#      every account; then a user that cannot be rotated fails only its account;
#   4. ansible-runner, as AWX runs a job: credential variables in env/envvars,
#      survey answers in env/extravars; check_runner.py reads its job events
#      and searches all its artifacts for every secret the stub ever saw.
#
# ansible-test runs this script from the target's directory in its temporary
# copy of the collection, with its verbosity (-vvvv) as arguments and
# ANSIBLE_COLLECTIONS_PATH pointing at the collection. The stub's endpoint and
# credentials are in integration_config.yml, two levels up.
set -eux
set -o pipefail

config="$(pwd)/../../integration_config.yml"
collection="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/rotator/aws_iam"
test -f "${collection}/playbooks/rotate.yml"
command -v ansible-runner
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT

setting() {
  python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "${config}" "$1"
}
AWS_ENDPOINT_URL=$(setting aws_endpoint_url)
AWS_ACCESS_KEY_ID=$(setting aws_access_key)
AWS_SECRET_ACCESS_KEY=$(setting aws_secret_key)
AWS_REGION=$(setting aws_region)
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_MAX_ATTEMPTS=3
stubctl=(python "$(setting stubctl)" --state-file "$(setting stub_state_file)")

# Empty AWS, then users with keys and console passwords 120 days old, fresh keys, tags and a group.
python seed.py "${config}" >"${work}/seed.json"
cat "${work}/seed.json"

playbook=(ansible-playbook -i inventory.yml "$@")
mkdir -p "${work}/plan" "${work}/apply"
"${playbook[@]}" run.yml --check --diff -e "results_dir=${work}/plan" | tee "${work}/plan.log"
"${playbook[@]}" run.yml --diff -e "results_dir=${work}/apply" | tee "${work}/apply.log"
"${playbook[@]}" rotator.aws_iam.rotate | tee "${work}/again.log"
python check_runs.py "${work}" "${config}"

# A user that cannot be rotated (two active keys the collection did not make) fails its account,
# after the other user of the same module call and the account's passwords are done.
rc=0
"${playbook[@]}" rotator.aws_iam.rotate --limit acct-dev \
  -e '{"rotator_access_key_users": ["svc-twokeys", "dev-bob"], "rotator_access_key_path_prefix": "/", "rotator_force": true}' >"${work}/failure.log" 2>&1 || rc=$?
cat "${work}/failure.log"
test "${rc}" -eq 2
grep -q '"svc-twokeys: failed | actions: none | next: none | a new key is due but the user already has two active keys' \
  "${work}/failure.log"
grep -q '"dev-bob: rotated | actions: create, store, verify \[AKIA' "${work}/failure.log"
grep -q '"dev-carol: rotated | actions: store_pending, update_login_profile, promote, record | next: rotation in 90 days | forced"' \
  "${work}/failure.log"
grep -Eq '^acct-dev +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=1 .*rescued=1 ' "${work}/failure.log"

# AWX: a project with the playbook, the inventory, and the job's environment.
runner="${work}/runner"
mkdir -p "${runner}/project" "${runner}/inventory" "${runner}/env"
cp "${collection}/playbooks/rotate.yml" "${runner}/project/rotate.yml"
cp inventory.yml "${runner}/inventory/hosts.yml"
# AWX's AWS credential with a session token (temporary credentials from STS), plus the endpoint of the stub.
python - "${runner}/env/envvars" "${ANSIBLE_COLLECTIONS_PATH}" <<'PYTHON'
import json, os, sys
import boto3
creds = boto3.client("sts", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                     region_name=os.environ["AWS_REGION"]).get_session_token()["Credentials"]
env = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
       "AWS_SECURITY_TOKEN": creds["SessionToken"], "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
       "ANSIBLE_COLLECTIONS_PATH": sys.argv[2]}
with open(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
    json.dump(env, handle)
PYTHON
# A survey's answers are strings: force, and a user filter naming users of two accounts.
printf '%s\n' '{"rotator_force": "true", "rotator_only_users": "app-new, ops-alice\nreporter"}' >"${runner}/env/extravars"
printf '%s\n' "$*" >"${runner}/env/cmdline"
secrets_before=$("${stubctl[@]}" secrets | python -c 'import json, sys; print(len(json.load(sys.stdin)["secrets"]))')
# Nothing of this shell's AWS, collection or config settings reaches the job: only env/envvars.
env -u AWS_ENDPOINT_URL -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_REGION -u AWS_MAX_ATTEMPTS \
  -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_CONFIG ansible-runner run "${runner}" -p rotate.yml --ident rotate
python check_runner.py "${runner}" rotate "${config}" "${secrets_before}"
