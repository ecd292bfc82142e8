#!/usr/bin/env bash
# Make `ansible-test sanity --local` runnable on a machine whose only network
# access is to package registries (PyPI, Debian apt).
#
#  1. Installs shellcheck (used by the `shellcheck` sanity test) with apt-get
#     if it is not already on PATH.
#  2. Writes offline stand-ins for the pip bootstrap script that ansible-test
#     otherwise downloads from ci-files.testing.ansible.com whenever it creates
#     a virtual environment (sanity tests run in such venvs). ansible-test looks
#     for a cached copy at ~/.ansible/test/cache/get_pip_<X_Y>.py first, see
#     ansible_test/_util/target/setup/requirements.py:bootstrap().
#
# Usage: tests/support/sanity-bootstrap.sh
#   ANSIBLE_TEST_PYTHON  interpreter that can import ansible_test (default: the
#                        one in the shebang of `ansible-test` on PATH, then
#                        <repo>/.venv/bin/python).
#   GET_PIP_CACHE_DIR    defaults to ~/.ansible/test/cache
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "${script_dir}/../.." && pwd)
cache_dir=${GET_PIP_CACHE_DIR:-"${HOME}/.ansible/test/cache"}

# Used only if ansible_test cannot be imported: the pip version pinned by
# ansible-core 2.19.14 in ansible_test/_internal/python_requirements.py
# (get_venv_packages(): default_packages = dict(pip='24.2')).
fallback_pip_version=24.2

log() { printf 'sanity-bootstrap: %s\n' "$*" >&2; }

install_shellcheck() {
    if command -v shellcheck >/dev/null 2>&1; then
        log "shellcheck already installed: $(command -v shellcheck)"
        return 0
    fi
    local sudo=()
    if [[ ${EUID} -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            log "shellcheck missing and not root (no sudo): install the Debian 'shellcheck' package"
            return 1
        fi
    fi
    log "installing shellcheck with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    local out
    if ! out=$("${sudo[@]}" apt-get update -qq 2>&1 &&
        "${sudo[@]}" apt-get install -y -qq --no-install-recommends shellcheck 2>&1); then
        printf '%s\n' "${out}" >&2
        log "apt-get install shellcheck failed"
        return 1
    fi
    log "installed $(shellcheck --version | sed -n 's/^version: //p' | head -n 1)"
}

find_ansible_test_python() {
    local candidate shebang at
    local candidates=()
    if [[ -n ${ANSIBLE_TEST_PYTHON:-} ]]; then
        candidates+=("${ANSIBLE_TEST_PYTHON}")
    fi
    if at=$(command -v ansible-test 2>/dev/null); then
        IFS= read -r shebang <"${at}" || true
        if [[ ${shebang} == '#!'* ]]; then
            shebang=${shebang#'#!'}
            candidates+=("${shebang%% *}")
        fi
    fi
    candidates+=("${repo_root}/.venv/bin/python" python3)
    for candidate in "${candidates[@]}"; do
        if "${candidate}" -c 'import ansible_test' >/dev/null 2>&1; then
            printf '%s\n' "${candidate}"
            return 0
        fi
    done
    return 1
}

# Print every pip version ansible-test pins for the venvs it creates, one per
# line, by asking the installed ansible-test itself.
pinned_pip_versions() {
    local python
    if ! python=$(find_ansible_test_python); then
        log "WARNING: cannot import ansible_test; using hard-coded pip ${fallback_pip_version}"
        printf '%s\n' "${fallback_pip_version}"
        return 0
    fi
    "${python}" - <<'PY'
import types

from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._util.target.common.constants import (
    CONTROLLER_PYTHON_VERSIONS,
    REMOTE_ONLY_PYTHON_VERSIONS,
)

versions = set()
for python_version in CONTROLLER_PYTHON_VERSIONS + REMOTE_ONLY_PYTHON_VERSIONS:
    # get_venv_packages() only reads .version from its PythonConfig argument.
    versions.add(get_venv_packages(types.SimpleNamespace(version=python_version))['pip'])
print('\n'.join(sorted(versions)))
PY
}

# The stand-in is run by ansible_test/_util/target/setup/quiet_pip.py (via
# runpy, as __main__) inside a venv created with `python -m venv --without-pip`:
#   <venv>/bin/python quiet_pip.py --disable-pip-version-check pip==<V> \
#       --no-setuptools --no-wheel
# Like the real get-pip.py it treats --no-setuptools/--no-wheel as its own
# options and hands everything else to `pip install --upgrade --force-reinstall`.
# pip itself comes from the interpreter's ensurepip, then is upgraded to the
# pinned version from PyPI.
write_get_pip() {
    local version=$1
    local target="${cache_dir}/get_pip_${version//./_}.py"
    local marker='# sanity-bootstrap offline get-pip stand-in'
    if [[ -e ${target} ]] && ! grep -qF -- "${marker}" "${target}"; then
        log "keeping existing (real?) ${target}"
        return 0
    fi
    mkdir -p -- "${cache_dir}"
    cat >"${target}.tmp" <<PY
${marker}
# pip ${version}; written by tests/support/sanity-bootstrap.sh
"""Bootstrap pip with ensurepip, then install the requested pip from PyPI."""
import subprocess
import sys

OWN_OPTIONS = ('--no-setuptools', '--no-wheel')


def run(*args):
    code = subprocess.call((sys.executable,) + args)
    if code:
        sys.exit(code)


def main():
    argv = sys.argv[1:]
    pip_args = [arg for arg in argv if arg not in OWN_OPTIONS]
    requested = [arg.split('=')[0].split('<')[0].split('>')[0].lower() for arg in pip_args if not arg.startswith('-')]
    if 'pip' not in requested:
        pip_args.append('pip==${version}')
    if '--no-setuptools' not in argv:
        pip_args.append('setuptools')
    if '--no-wheel' not in argv:
        pip_args.append('wheel')

    run('-m', 'ensurepip', '--upgrade')
    run('-m', 'pip', 'install', '--upgrade', '--force-reinstall', *pip_args)
    if '--no-setuptools' in argv:
        # ensurepip on Python < 3.12 also installs setuptools; real get-pip would not.
        run('-m', 'pip', 'uninstall', '--yes', '--disable-pip-version-check', 'setuptools')


if __name__ == '__main__':
    main()
PY
    mv -f -- "${target}.tmp" "${target}"
    log "wrote ${target}"
}

main() {
    install_shellcheck
    local versions version
    versions=$(pinned_pip_versions)
    while IFS= read -r version; do
        [[ -n ${version} ]] && write_get_pip "${version}"
    done <<<"${versions}"
}

main "$@"
