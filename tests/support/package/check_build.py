# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the collection as a user gets it, from a used working tree, and check what it holds.

    python3 tests/support/package/check_build.py [--keep DIR]

1. venv: the packaging virtualenv ``.venv-package`` from ``requirements.txt`` beside this
   file, made or updated only when it is missing or that file changed; the script then
   runs again inside it.
2. used tree: a copy of the files git would ship (tracked, or new and not ignored) plus
   what development leaves behind: virtualenvs, caches, test output, benchmark results,
   built tarballs, the AWS test configuration and demo/run.sh's symlink back to the root.
3. build: ``ansible-galaxy collection build`` from that tree. Every path of the tarball
   that is not shipped content is named, as is every symlink and every required file that
   is missing; the size, the file count and each top-level directory's share are printed.
4. licence: LICENSES/GPL-3.0-or-later.txt is shipped, the manifest declares that licence,
   and every licence header in the tarball names that file.
5. galaxy-importer on the tarball, as Galaxy and Automation Hub run it (settings in
   galaxy-importer.cfg beside this file); its errors fail the check, its warnings are shown.
6. execution environment: ``ansible-builder create`` with docs/ee/execution-environment.yml
   and the tarball next to it, as docs/awx.md says. The context must hold the tarball at
   the in-container path the recipe's galaxy requirements name, and the collection
   installed from that file must declare boto3 and botocore to ``ansible-builder introspect``.

Each step prints how long it took. The exit status is 1 when anything failed, with one
line per failure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from collection_tree import shipped_files  # noqa: E402  pylint: disable=wrong-import-position

REPO = HERE.parents[2]
VENV = REPO / ".venv-package"
REQUIREMENTS = HERE / "requirements.txt"
IMPORTER_CONFIG = HERE / "galaxy-importer.cfg"
EE_RECIPE = "docs/ee/execution-environment.yml"
LICENSE = "GPL-3.0-or-later"
LICENSE_FILE = "LICENSES/GPL-3.0-or-later.txt"
LICENSE_HEADER = "GNU General Public License"

# What a user's tarball ships (galaxy.yml's build_ignore keeps everything else out);
# a name ending in "/" is a directory and all that is under it.
SHIPPED = (
    "MANIFEST.json", "FILES.json", "README.md", "requirements.txt", "bindep.txt",
    "LICENSES/", "changelogs/", "docs/", "inventories/", "meta/", "playbooks/", "plugins/", "roles/",
    "tests/config.yml", "tests/sanity/",
)
# Files without which the tarball is not usable: the EE reads requirements.txt and
# bindep.txt through meta/execution-environment.yml.
REQUIRED = (
    "README.md", LICENSE_FILE, "requirements.txt", "bindep.txt",
    "meta/runtime.yml", "meta/execution-environment.yml", EE_RECIPE,
)

# What a working tree holds after tests/run.sh, demo/run.sh, the benchmarks, ansible-test,
# ansible-builder and this script: files, relative to the root.
DEV_FILES = (
    ".venv/pyvenv.cfg",
    ".venv/lib/python3.11/site-packages/rotator-litter/__init__.py",
    ".venv-package/pyvenv.cfg",
    ".venv-matrix/2.17-py3.9/pyvenv.cfg",
    "tests/output/matrix/2.17-py3.9/units.log",
    ".demo/stub.json",
    ".demo/stub.json.log",
    "benchmarks/.venv-peer/pyvenv.cfg",
    "benchmarks/results/fleet.json",
    "tests/output/junit/python3.11-modules.xml",
    "tests/output/.tmp/sanity/validate-modules.json",
    "plugins/modules/__pycache__/iam_access_key_rotate.cpython-311.pyc",
    "tests/unit/__pycache__/conftest.cpython-311-pytest-9.0.3.pyc",
    ".pytest_cache/v/cache/nodeids",
    "tests/unit/.pytest_cache/v/cache/lastfailed",
    ".hypothesis/examples/0123/abcd",
    ".ansible/collections/ansible_collections/.keep",
    "changelogs/.plugin-cache.yaml",
    "rotator-aws_iam-0.0.9.tar.gz",
    "docs/ee/rotator-aws_iam-0.0.9.tar.gz",
    "docs/ee/context/Containerfile",
    "context/Containerfile",
    "tests/integration/integration_config.yml",
    "tests/integration/cloud-config-aws.ini",
)
# Symlinks, relative to the root, and their targets: None stands for the root itself,
# which is what demo/run.sh links into .demo/ (a loop back to the collection).
DEV_LINKS = (
    (".demo/collections/ansible_collections/rotator/aws_iam", None),
    (".venv/bin/python", "/usr/bin/python3"),
)


# ---------------------------------------------------------------- reporting

class Timings:
    """How long each step took, printed as the steps end and once more at the end."""

    def __init__(self):
        self.steps = []

    @contextmanager
    def step(self, name):
        print(f"\n=== {name}", flush=True)
        started = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - started
            self.steps.append((name, took))
            print(f"--- {name}: {took:.1f} s", flush=True)

    def summary(self):
        return "\n".join(f"{name:<24} {took:6.1f} s" for name, took in self.steps)


def run(command, **kwargs):
    """Run a command, its output captured as text: the caller decides what to show."""
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, check=False, **kwargs)


def output_of(result):
    return (result.stdout + result.stderr).strip()


# ---------------------------------------------------------------- 1. venv

def requirements_stamp():
    """What the venv was made from: the requirements and the interpreter's version."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def ensure_venv():
    python = VENV / "bin" / "python"
    stamp_file = VENV / ".requirements.sha256"
    stamp = requirements_stamp()
    if not python.exists():
        print(f"creating {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not stamp_file.exists() or stamp_file.read_text().strip() != stamp:
        print(f"installing {REQUIREMENTS.relative_to(REPO)} into {VENV.name}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
        stamp_file.write_text(stamp + "\n")
    return python


def running_in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def venv_tool(name):
    return Path(sys.prefix) / "bin" / name


# ---------------------------------------------------------------- 2. used tree

def copy_tree(repo, root):
    """Copy the files git would ship (tracked, or new and not ignored), as collection_tree.py does."""
    names = shipped_files(repo)
    if names is None:
        raise SystemExit(f"FAILED: git ls-files found no checkout at {repo}")
    for name in names:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, target, follow_symlinks=False)


def add_dev_litter(root):
    """Leave in ``root`` what development leaves in a working tree; return the paths made."""
    for name in DEV_FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # A link copied into the tree must never carry the litter into a real directory (a venv, the checkout).
        if not path.parent.resolve().is_relative_to(root.resolve()) or path.is_symlink():
            raise SystemExit(f"FAILED: {path} is not a file inside {root}; no litter written through it")
        path.write_text("development only\n")
    for name, target in DEV_LINKS:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(root if target is None else target)
    return list(DEV_FILES) + [name for name, _target in DEV_LINKS]


def make_used_tree(root, repo=REPO):
    copy_tree(repo, root)
    made = add_dev_litter(root)
    print(f"{root}: the files git would ship and {len(made)} development files and links")
    return made


# ---------------------------------------------------------------- 3. build

def build(tree, output_dir):
    result = run([venv_tool("ansible-galaxy"), "collection", "build", "--output-path", output_dir, tree])
    print(output_of(result))
    if result.returncode:
        raise SystemExit(f"FAILED: ansible-galaxy collection build exited with {result.returncode}")
    return next(Path(output_dir).glob("*.tar.gz"))


def is_shipped(name, is_dir=False):
    """Whether a tarball member belongs to what a user gets (SHIPPED, or a directory on the way there)."""
    for entry in SHIPPED:
        if entry.endswith("/"):
            if name == entry[:-1] or name.startswith(entry):
                return True
        elif name == entry:
            return True
        if is_dir and entry.startswith(name + "/"):
            return True
    return False


def tarball_problems(members):
    """One line per member that must not be in the tarball, and per required file it lacks."""
    problems = []
    names = {member.name for member in members}
    for member in members:
        if member.issym() or member.islnk():
            problems.append(f"symlink in the tarball: {member.name} -> {member.linkname}")
        elif not is_shipped(member.name, member.isdir()):
            problems.append(f"development file in the tarball: {member.name}")
    for name in REQUIRED:
        if name not in names:
            problems.append(f"missing from the tarball: {name}")
    for role in sorted({name.split("/")[1] for name in names if name.startswith("roles/") and name.count("/") >= 2}):
        if f"roles/{role}/README.md" not in names:
            problems.append(f"missing from the tarball: roles/{role}/README.md")
    return problems


def size_lines(tarball, members):
    files = [member for member in members if member.isfile()]
    total = sum(member.size for member in files) or 1
    shares = {}
    for member in files:
        top = member.name.split("/")[0] if "/" in member.name else "(root files)"
        shares[top] = shares.get(top, 0) + member.size
    lines = [f"{tarball.name}: {tarball.stat().st_size} bytes, {len(files)} files, {total} bytes unpacked"]
    lines += [f"  {top + '/' if top != '(root files)' else top:<16} {size:8d} bytes {100 * size / total:5.1f} %"
              for top, size in sorted(shares.items(), key=lambda item: -item[1])]
    return lines


def check_tarball(tarball):
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()
    print("\n".join(size_lines(tarball, members)))
    return tarball_problems(members)


# ---------------------------------------------------------------- 4. licence

def license_problems(tarball):
    problems = []
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        if manifest["collection_info"]["license"] != [LICENSE]:
            problems.append(f"MANIFEST.json licence is {manifest['collection_info']['license']}, not [{LICENSE}]")
        if LICENSE_FILE in names:
            text = archive.extractfile(LICENSE_FILE).read().decode()
            if not text.lstrip().startswith("GNU GENERAL PUBLIC LICENSE\n                       Version 3"):
                problems.append(f"{LICENSE_FILE} is not the text of the GNU GPL version 3")
        headers = 0
        for member in archive.getmembers():
            if not member.isfile() or member.name == LICENSE_FILE:
                continue
            head = archive.extractfile(member).read(2048).decode(errors="replace").splitlines()[:10]
            cited = [line for line in head if LICENSE_HEADER in line]
            headers += bool(cited)
            problems += [f"{member.name}: its licence header does not name {LICENSE_FILE}"
                         for line in cited if LICENSE_FILE not in line]
    print(f"{headers} files carry a licence header naming {LICENSE_FILE}; MANIFEST.json: {LICENSE}")
    return problems


# ---------------------------------------------------------------- 5. galaxy-importer

def run_galaxy_importer(tarball, workdir):
    """Run galaxy-importer with ansible-doc and ansible-lint of the packaging venv on its PATH; keep its log."""
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=str(IMPORTER_CONFIG),
               PATH=f"{venv_tool('python').parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = run([venv_tool("python"), "-m", "galaxy_importer.main", tarball], cwd=workdir, env=env)
    log = output_of(result)
    (Path(workdir) / "galaxy-importer.log").write_text(log + "\n")
    lines = log.splitlines()
    print("\n".join(line for line in lines if line.startswith(("WARNING", "ERROR"))) or "no warnings, no errors")
    print(lines[-1] if lines else "(no output)")
    return importer_problems(log, result.returncode)


def importer_problems(log, returncode):
    """galaxy-importer's ERROR lines, a check it skipped, or its exit status; its other warnings do not fail."""
    lines = log.splitlines()
    errors = [line for line in lines if line.startswith("ERROR")]
    # "WARNING: ansible-doc not found, skipping loading of docstrings": a check that did not run.
    skipped = [line for line in lines if line.startswith("WARNING") and "not found, skipping" in line]
    problems = [f"galaxy-importer: {line}" for line in errors + skipped]
    if returncode and not problems:
        problems.append(f"galaxy-importer exited with {returncode}:\n{log}")
    return problems


# ---------------------------------------------------------------- 6. execution environment

def load_yaml(path):
    # Imported here: the first run, before the script re-runs in the packaging venv, may lack PyYAML.
    import yaml

    return yaml.safe_load(Path(path).read_text())


def in_context(context, container_path):
    """Where a path of the galaxy build stage (``COPY _build /build``) is in the context."""
    if not container_path.startswith("/build/"):
        return None
    return Path(context) / "_build" / container_path[len("/build/"):]


def ee_problems(tree, tarball, workdir):
    """Build the EE context as docs/awx.md says, then install the collection as its galaxy stage would."""
    recipe = Path(tree) / EE_RECIPE
    shutil.copy2(tarball, recipe.parent / tarball.name)
    context = Path(workdir) / "ee-context"
    result = run([venv_tool("ansible-builder"), "create", "-f", recipe, "--context", context,
                  "--output-filename", "Containerfile"])
    print(output_of(result).splitlines()[-1] if output_of(result) else "")
    if result.returncode:
        return [f"ansible-builder create failed:\n{output_of(result)}"]
    containerfile = (context / "Containerfile").read_text()
    problems = [f"Containerfile lacks the step: {step}" for step in
                ("COPY _build /build", "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml")
                if step not in containerfile]
    wanted = [entry for entry in load_yaml(context / "_build" / "requirements.yml")["collections"]
              if entry.get("type") == "file"]
    if len(wanted) != 1:
        return problems + [f"the recipe's galaxy requirements name {len(wanted)} collection files, not 1"]
    local = in_context(context, wanted[0]["name"])
    if local is None or not local.is_file():
        return problems + [f"the galaxy stage cannot find {wanted[0]['name']}: it is not in the build context"]
    if local.read_bytes() != tarball.read_bytes():
        problems.append(f"{wanted[0]['name']} in the build context is not {tarball.name} (galaxy.yml's version)")
    print(f"context: {local.relative_to(context)} is /build/{local.relative_to(context / '_build')} in the galaxy stage")
    return problems + introspection_problems(local, Path(workdir) / "ee-collections")


def introspection_problems(collection_file, collections_dir):
    installed = run([venv_tool("ansible-galaxy"), "collection", "install", "-p", collections_dir, collection_file])
    if installed.returncode:
        return [f"ansible-galaxy collection install {collection_file.name} failed:\n{output_of(installed)}"]
    found = run([venv_tool("ansible-builder"), "introspect", collections_dir])
    print(found.stdout.strip())
    return [f"ansible-builder introspect does not find {package} for rotator.aws_iam"
            for package in ("boto3", "botocore")
            if f"{package}>=" not in found.stdout or "from collection rotator.aws_iam" not in found.stdout]


# ---------------------------------------------------------------- main

def check(workdir, timings):
    tree = Path(workdir) / "tree"
    dist = Path(workdir) / "dist"
    dist.mkdir()
    problems = []
    with timings.step("used tree"):
        make_used_tree(tree)
    with timings.step("build"):
        tarball = build(tree, dist)
        problems += check_tarball(tarball)
    with timings.step("licence"):
        problems += license_problems(tarball)
    with timings.step("galaxy-importer"):
        problems += run_galaxy_importer(tarball, workdir)
    with timings.step("ansible-builder create"):
        problems += ee_problems(tree, tarball, workdir)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (created) and keep it, instead of a temporary one")
    args = parser.parse_args(argv)
    if not running_in_venv():
        started = time.monotonic()
        python = ensure_venv()
        print(f"--- venv: {time.monotonic() - started:.1f} s", flush=True)
        os.execv(str(python), [str(python), str(Path(__file__).resolve()), *(argv or sys.argv[1:])])
    timings = Timings()
    if args.keep:
        Path(args.keep).mkdir(parents=True)
        problems = check(args.keep, timings)
    else:
        with tempfile.TemporaryDirectory(prefix="rotator-package-") as workdir:
            problems = check(workdir, timings)
    print("\n" + timings.summary())
    for problem in problems:
        print(f"FAILED: {problem}")
    print(f"package checks: {'failed' if problems else 'passed'} ({len(problems)} problems)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
