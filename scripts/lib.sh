#!/usr/bin/env bash
# Shared set-up for tests/run.sh and demo/run.sh: Debian tools and the
# project's virtualenv (.venv), installed only when missing or changed.
# setup_all does both side by side: on a fresh machine each waits mostly on
# downloads, and neither needs the other.

log() { printf '\n=== %s\n' "$*"; }

setup_system() {
  local missing=() tool
  for tool in "$@"; do
    command -v "${tool}" >/dev/null 2>&1 || missing+=("${tool}")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

setup_venv() {
  local repo=$1 venv="$1/.venv" stamp want
  stamp="${venv}/.requirements.sha256"
  want=$(cat "${repo}/requirements.txt" "${repo}/tests/requirements-dev.txt" | sha256sum | cut -d' ' -f1)
  if [[ ! -x "${venv}/bin/python" ]]; then
    log "creating ${venv}"
    python3 -m venv "${venv}"
  fi
  if [[ ! -f "${stamp}" || $(cat "${stamp}") != "${want}" ]]; then
    log "installing requirements into ${venv} (first run only)"
    "${venv}/bin/python" -m pip install -q --upgrade pip
    (cd "${repo}/tests" && "${venv}/bin/python" -m pip install -q -r requirements-dev.txt)
    echo "${want}" >"${stamp}"
  fi
  export PATH="${venv}/bin:${PATH}"
}

# Usage: setup_all REPO TOOL...  (the venv in this shell, for its PATH; apt in
# the background).  Called where errexit holds, so a failure of either stops
# the caller.
setup_all() {
  local repo=$1 system
  shift
  setup_system "$@" &
  system=$!
  setup_venv "${repo}"
  wait "${system}"
}
