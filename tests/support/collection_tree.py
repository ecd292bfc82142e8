"""Copy the collection to ``<dir>/ansible_collections/rotator/aws_iam`` for ansible-test.

ansible-test only works inside such a path (a symlink is not enough).  The
copy holds the files git would ship (tracked, or new and not ignored), so
virtualenvs, caches and test output stay out of sanity checks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(".git", ".venv", "output", "__pycache__", ".hypothesis", ".pytest_cache", ".demo")


def shipped_files(repo: Path = REPO):
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=repo, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [name for name in out.split("\0") if name and (repo / name).exists()]


def collection_tree(workdir: Path, repo: Path = REPO) -> Path:
    root = Path(workdir) / "ansible_collections" / "rotator" / "aws_iam"
    files = shipped_files(repo)
    if files is None:
        shutil.copytree(repo, root, ignore=IGNORED, symlinks=True)
        return root
    for name in files:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, target, follow_symlinks=False)
    return root


if __name__ == "__main__":
    print(collection_tree(Path(sys.argv[1])))
