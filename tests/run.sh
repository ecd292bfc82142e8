#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them:
# unit tests, ansible-test sanity, ansible-lint, and the integration tests
# against a local AWS stub (moto on loopback), the fault ones (alias
# `faults`) in a stage of their own.
#
# Usage: bash tests/run.sh [units|sanity|lint|package|matrix|integration|faults|bench ...]   (default: all)
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "${repo}"

# shellcheck source=scripts/lib.sh
source "${repo}/scripts/lib.sh"

run_units() {
  log "unit tests"
  # Two workers: tests using the aws fixture (tests/unit/conftest.py) wait on a stub of their own per worker.
  python -m pytest tests/unit -q -p no:cacheprovider -n 2
}

run_sanity() {
  log "ansible-test sanity"
  # Stages run as `if` conditions, where errexit is off: check each step.
  bash tests/support/sanity-bootstrap.sh || return 1
  local work root status=0
  work=$(mktemp -d)
  root=$(python tests/support/collection_tree.py "${work}") || return 1
  (cd "${root}" && ansible-test sanity --local --python 3.11 --color no) || status=$?
  rm -rf "${work}"
  return "${status}"
}

run_lint() {
  log "ansible-lint"
  local work status=0
  work=$(mktemp -d)
  mkdir -p "${work}/ansible_collections/rotator"
  ln -s "${PWD}" "${work}/ansible_collections/rotator/aws_iam"
  ANSIBLE_COLLECTIONS_PATH="${work}" ansible-lint || status=$?
  rm -rf "${work}"
  return "${status}"
}

run_package() {
  log "package: a build from a used tree, galaxy-importer, ansible-builder create"
  python tests/support/package/check_build.py
}

# ansible-core 2.17 to 2.21 (units, sanity, a smoke run of the demo and one lost answer), controller Pythons
# 3.11 to 3.13, modules also run on Python 3.9; each row in a venv of its own under .venv-matrix/.
run_matrix() {
  log "version matrix: ansible-core 2.17 to 2.21, Python 3.9 to 3.13"
  python tests/support/matrix/run.py
}

run_bench() {
  log "benchmark (CI size: proves it runs, asserts no timing)"
  python benchmarks/run.py --ci --json "${TMPDIR:-/tmp}/rotator-bench-ci.json"
}

# The integration stages share their targets out among shards side by side
# (ROTATOR_IT_JOBS, default 2: one per core), each with its own stub; the
# shards' times go to ${stage_notes} for the summary.
run_integration() {
  log "integration tests"
  python tests/support/run_integration.py --timings "${stage_notes}" --exclude faults/
}

run_faults() {
  log "integration tests under faults: kill matrix, throttling, overlapping runs, least privilege"
  python tests/support/run_integration.py --timings "${stage_notes}" faults/
}

stages=("$@")
((${#stages[@]})) || stages=(units sanity lint package matrix integration faults bench)
setup_all "${repo}" faketime shellcheck chromium
passed=0
failed=0
timings=("$(printf '%-12s %-7s %5d s' set-up 'done' "${SECONDS}")")
stage_notes=$(mktemp)
trap 'rm -f -- "${stage_notes}"' EXIT
for stage in "${stages[@]}"; do
  started=${SECONDS}
  : >"${stage_notes}"
  if "run_${stage}"; then
    passed=$((passed + 1))
    result=passed
  else
    failed=$((failed + 1))
    result=failed
    printf 'stage %s failed\n' "${stage}"
  fi
  timings+=("$(printf '%-12s %-7s %5d s' "${stage}" "${result}" $((SECONDS - started)))")
  while IFS= read -r note; do
    timings+=("  ${note}")
  done <"${stage_notes}"
done
printf '\nstage timings:\n'
printf '  %s\n' "${timings[@]}"
printf '\nstages: %d passed, %d failed (%d s in all)\n' "${passed}" "${failed}" "${SECONDS}"
((failed == 0))
