#!/usr/bin/env bash
# The aws_accounts inventory plugin against an AWS Organization in the stub:
# hosts, OU groups and variables, the OU and tag filters, exclusions, the
# constructed options, the example inventory, the inventory cache (a second
# run makes no Organizations call), and a playbook over the inventory that
# reaches each account through its role and rotates a user's key in one.
#
# ansible-test runs this script from the target's directory in its temporary
# copy of the collection, with its verbosity (-vvvv) as arguments.  The stub's
# endpoint and credentials are in integration_config.yml, two levels up.
set -eux

config="$(pwd)/../../integration_config.yml"
work_dir=$(mktemp -d)
trap 'rm -rf -- "${work_dir}"' EXIT
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
orgctl=("${python}" "$(pwd)/orgctl.py" --config "${config}" --work-dir "${work_dir}")
setting() { "${python}" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "${config}" "$1"; }

endpoint=$(setting aws_endpoint_url)
# The plugin takes its credentials from the environment, as the modules do.
AWS_ACCESS_KEY_ID=$(setting aws_access_key)
AWS_SECRET_ACCESS_KEY=$(setting aws_secret_key)
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
# A plugin that fails must fail ansible-inventory, not leave an empty inventory.
export ANSIBLE_INVENTORY_UNPARSED_FAILED=true

"${orgctl[@]}" seed
workloads=$("${orgctl[@]}" get ou Workloads)
legacy=$("${orgctl[@]}" get account Legacy)

# inventory CASE[-RUN] [ansible-inventory options]: the configuration on
# stdin is written to CASE.aws_accounts.yml (the same file for every run of a
# case, so that they share a cache key), and the --list output is checked by
# orgctl.py's check CASE.
inventory() {
  local name=$1 case=${1%%-*}
  shift
  cat >"${work_dir}/${case}.aws_accounts.yml"
  ansible-inventory -i "${work_dir}/${case}.aws_accounts.yml" --list "$@" >"${work_dir}/${name}.json"
  "${orgctl[@]}" check "${case}" "${work_dir}/${name}.json"
}

# Every active account (not the closed one), OUs as nested groups, the default
# role ARN, and a variable composed from a tag.
inventory all <<EOF
plugin: rotator.aws_iam.aws_accounts
endpoint_url: ${endpoint}
compose:
  rotator_access_key_users: aws_account_tags['rotation:users'] | default('') | split(',') | select | list
EOF

# Only the accounts under Workloads, including its nested OU Prod.
inventory ou <<EOF
plugin: rotator.aws_iam.aws_accounts
endpoint_url: ${endpoint}
ou_ids: ["${workloads}"]
EOF

# Only the accounts tagged env=dev, with a role named after the account.
inventory tag <<EOF
plugin: rotator.aws_iam.aws_accounts
endpoint_url: ${endpoint}
tag_filters: {env: dev}
assume_role_arn_template: "arn:aws:iam::{account_id}:role/rotator-{account_name}"
EOF

# Exclusions, account IDs as host names, flattened tags, keyed groups.
inventory exclude <<EOF
plugin: rotator.aws_iam.aws_accounts
endpoint_url: ${endpoint}
exclude_account_ids: ["${legacy}", "123456789012"]
hostname: id
flatten_tags: true
tag_variable_prefix: tag_
ou_group_prefix: ou_
accounts_group: ""
assume_role_arn_template: ""
keyed_groups:
  - key: aws_account_tags.env
    prefix: env
EOF

# A role template that does not give a role ARN fails the inventory.
cat >"${work_dir}/bad.aws_accounts.yml" <<EOF
plugin: rotator.aws_iam.aws_accounts
endpoint_url: ${endpoint}
assume_role_arn_template: "arn:aws:iam::{account_id}:role/{account_name}"
EOF
if ansible-inventory -i "${work_dir}/bad.aws_accounts.yml" --list >"${work_dir}/bad.out" 2>&1; then
  echo "an assume_role_arn_template that gives no role ARN was accepted" >&2
  exit 1
fi
grep -q "role/Prod App' for account .* which is not an IAM role ARN" "${work_dir}/bad.out"

# The cache: the first run reads AWS and writes the cache file, the second is
# served from the file without a single Organizations call, --flush-cache
# reads AWS again.  The endpoint is a Jinja template here.
export ROTATOR_TEST_ENDPOINT="${endpoint}"
cache_config() {
  cat <<'EOF'
plugin: rotator.aws_iam.aws_accounts
endpoint_url: "{{ lookup('ansible.builtin.env', 'ROTATOR_TEST_ENDPOINT') }}"
compose:
  rotator_access_key_users: aws_account_tags['rotation:users'] | default('') | split(',') | select | list
cache: true
cache_plugin: ansible.builtin.jsonfile
EOF
  echo "cache_connection: ${work_dir}/cache"
}
"${orgctl[@]}" calls-reset
cache_config | inventory cached-1
"${orgctl[@]}" check-cache "${work_dir}/cache"
"${orgctl[@]}" org-calls | grep -q '"count": [1-9]'

"${orgctl[@]}" calls-reset
cache_config | inventory cached-2
"${orgctl[@]}" org-calls | grep -q '"count": 0,'
cmp "${work_dir}/cached-1.json" "${work_dir}/cached-2.json"
cmp "${work_dir}/all.json" "${work_dir}/cached-2.json"

cache_config | inventory cached-3 --flush-cache
"${orgctl[@]}" org-calls | grep -q '"count": [1-9]'

# The example inventory of the collection: its plugin configuration, with the
# endpoint from the environment (AWS_ENDPOINT_URL, as for the modules).
example="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/rotator/aws_iam/inventories/example"
AWS_ENDPOINT_URL="${endpoint}" ansible-inventory -i "${example}/aws_accounts.yml" --list >"${work_dir}/example.json"
"${orgctl[@]}" check example "${work_dir}/example.json"
AWS_ENDPOINT_URL="${endpoint}" ansible-inventory -i "${example}/aws_accounts.yml" --host prod-app \
  >"${work_dir}/example-prod-app.json"
grep -q '"rotator_rotate_after_days": 30' "${work_dir}/example-prod-app.json"
ansible-inventory -i "${example}/hosts.yml" --host dev-sandbox >"${work_dir}/example-dev-sandbox.json"
grep -q '"rotator_rotate_after_days": 90' "${work_dir}/example-dev-sandbox.json"

# A playbook over the inventory: every account through its role, a key
# rotated in the one account that has a user to rotate.
ansible-playbook -i "${work_dir}/all.aws_accounts.yml" -e "@${config}" rotate.yml "$@"

# The collection's own playbook over the same inventory, configured from the
# environment as AWX would: right after the rotation above nothing is due in
# any account; a forced run rotates the user of prod-app again.
export AWS_ENDPOINT_URL="${endpoint}"
ansible-playbook -i "${work_dir}/all.aws_accounts.yml" rotator.aws_iam.rotate "$@" | tee "${work_dir}/rotate-1.log"
grep -q '^prod-app .* changed=0 ' "${work_dir}/rotate-1.log"
if grep -E '^[a-z].* changed=[1-9]' "${work_dir}/rotate-1.log"; then exit 1; fi
ansible-playbook -i "${work_dir}/all.aws_accounts.yml" rotator.aws_iam.rotate "$@" \
  -e '{"rotator_deactivate_after_days": 0, "rotator_delete_after_days": 0, "rotator_in_use_guard": false}' \
  | tee "${work_dir}/rotate-2.log"
grep -q '^prod-app .* changed=[1-9]' "${work_dir}/rotate-2.log"
