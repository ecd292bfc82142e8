#!/usr/bin/env bash
# playbooks/report.yml over a fleet of two AWS accounts of the stub
# (123456789012, and 222222222222 through an assumed role) whose keys and
# console passwords are 120, 80, 30 and 0 days old:
#   1. the report alone, with a third host that cannot be read: the files are
#      written, that host is named in them and fails the run;
#   2. rotate.yml then report.yml in one run: the report shows what changed,
#      and holds none of the secrets the stub saw;
#   3. the page in headless Chromium: its rows, chart, script (a filtered and
#      sorted view from the address) and a screenshot that is not blank; then,
#      through Playwright, at 1400 and 800 px and in print, with screenshots
#      (rotated/browser/): no sideways scroll at 800 px, user and status
#      columns in the window, in print no filter controls and every row, and
#      alice's and frank's old keys retiring with the day of each step.
# check_report.py checks the JSON, the CSV, the HTML, the DOM and the PNG;
# check_page.py the page in the browser. In CI (CI=true) a missing Chromium
# or Playwright fails the run; elsewhere it skips the browser checks.
#
# ansible-test runs this script from the target's directory in its temporary
# copy of the collection, with its verbosity (-vvvv) as arguments and
# ANSIBLE_COLLECTIONS_PATH pointing at the collection. The stub's endpoint and
# credentials are in integration_config.yml, two levels up. Reports go under
# ansible-test's output directory (tests/output), which run_integration.py
# searches for secrets too.
set -eux
set -o pipefail

config="$(pwd)/../../integration_config.yml"
work=$(mktemp -d)
trap 'rm -rf -- "${work}"' EXIT
if [[ -n ${JUNIT_OUTPUT_DIR:-} ]]; then
  reports="$(dirname -- "${JUNIT_OUTPUT_DIR}")/playbook_report"
else
  reports="${work}/reports"
fi
rm -rf -- "${reports}"
mkdir -p -- "${reports}"

setting() {
  python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "${config}" "$1"
}
AWS_ENDPOINT_URL=$(setting aws_endpoint_url)
AWS_ACCESS_KEY_ID=$(setting aws_access_key)
AWS_SECRET_ACCESS_KEY=$(setting aws_secret_key)
AWS_REGION=$(setting aws_region)
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_MAX_ATTEMPTS=3
stubctl=(python "$(setting stubctl)" --state-file "$(setting stub_state_file)")
pwctl=(python ../setup_aws_stub/files/pwctl.py --endpoint "${AWS_ENDPOINT_URL}" --access-key "${AWS_ACCESS_KEY_ID}"
       --secret-key "${AWS_SECRET_ACCESS_KEY}" --stubctl "$(setting stubctl)" --stub-state-file "$(setting stub_state_file)")
dev=(--role-arn arn:aws:iam::222222222222:role/rotator)

# The fleet: each user is created with the stub's clock moved back, so its key
# and console password are that many days old.
"${stubctl[@]}" reset
"${stubctl[@]}" clock -120
"${pwctl[@]}" create-user alice --keys 1 --login-profile
"${pwctl[@]}" "${dev[@]}" create-user frank --keys 1
"${stubctl[@]}" clock -80
"${pwctl[@]}" create-user dana --keys 1
"${stubctl[@]}" clock -30
"${pwctl[@]}" create-user bob --keys 1 --login-profile --path '/ops&<team>/'
"${pwctl[@]}" "${dev[@]}" create-user grace --keys 1 --login-profile
"${stubctl[@]}" clock 0
# erin is exempt (an end date far ahead); +ops@example.com carries a value without one, which does not exempt.
"${pwctl[@]}" create-user erin --keys 1 --tag "rotator:exempt=until=2099-12-31 reason=SEC-123 vendor audit"
"${pwctl[@]}" create-user '+ops@example.com' --tag rotator:exempt=yes

# 1. The report alone: read only. The unreadable host fails the run (rc 2), after the files are written.
status=0
ansible-playbook -i inventory.yml rotator.aws_iam.report -e "rotator_report_dir=${reports}/report" "$@" \
  | tee "${work}/report.log" || status=$?
test "${status}" -eq 2
grep -F 'FAILED: user selection failed for nobody: user nobody does not exist' "${work}/report.log"
grep -F 'prod (123456789012): 4 users, 3 access keys (3 active): 1 overdue, 1 due within 14 days' "${work}/report.log"
grep -F 'console passwords overdue; exemptions: 1 active (0 ending within 14 days), 0 expired, 1 malformed' "${work}/report.log"
python check_report.py files report "${reports}/report"

# 2. Rotation and report in one run, without the unreadable host.
ansible-playbook -i inventory.yml rotate_and_report.yml --limit prod,dev -e "rotator_report_dir=${reports}/rotated" "$@" \
  | tee "${work}/rotated.log"
grep -F 'prod (123456789012): 2 rotation changes in this run' "${work}/rotated.log"
"${stubctl[@]}" secrets >"${work}/secrets.json"
python check_report.py files rotated "${reports}/rotated" --secrets "${work}/secrets.json"

# 3. The page in a real browser.
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z ${browser} && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"${work}/apt.log" 2>&1 \
    || tail -n 5 "${work}/apt.log"
  browser=$(command -v chromium || true)
fi
if [[ -z ${browser} ]]; then
  echo "SKIPPED: the browser check: Chromium is not installed and could not be installed (apt-get install chromium)"
  [[ ${CI:-} != true ]] || exit 1
  exit 0
fi
page="file://${reports}/rotated/report.html"
chromium=(timeout 120 "${browser}" --headless --no-sandbox --disable-gpu --disable-background-networking
          --disable-component-update --disable-sync --no-first-run --user-data-dir="${work}/chromium"
          "--window-size=1280,1400" --hide-scrollbars)
"${chromium[@]}" --screenshot="${reports}/rotated/screenshot.png" "${page}" 2>"${work}/chromium.log"
"${chromium[@]}" --dump-dom "${page}" >"${work}/dom.html" 2>>"${work}/chromium.log"
"${chromium[@]}" --dump-dom "${page}#account=prod&sort=user&dir=desc" >"${work}/dom-prod.html" 2>>"${work}/chromium.log"
python check_report.py browser "${work}/dom.html" "${work}/dom-prod.html" "${reports}/rotated/screenshot.png"
if ! python -c 'import playwright' 2>/dev/null; then
  echo "SKIPPED: the page at 1400 and 800 px and in print: Playwright is not installed (pip install playwright)"
  [[ ${CI:-} != true ]] || exit 1
  exit 0
fi
CHROMIUM="${browser}" python check_page.py "${reports}/rotated/report.html" "${reports}/rotated/browser" \
  --retiring alice frank --name rotated
