"""The directory store when two slice jobs of one run write into one shared directory at the same time."""

from __future__ import annotations

import os
import stat

from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.file import PlainFileWriter
from ansible_collections.rotator.aws_iam.plugins.module_utils._report.store import DirectoryStore


def test_a_directory_another_slice_makes_meanwhile_is_used(tmp_path, monkeypatch):
    real_mkdir = os.mkdir
    made_by_the_other_slice = []

    def other_slice_first(path, mode=0o777):
        # The other slice's job creates <run>/ and <run>/slices/ between this one's look and its mkdir.
        real_mkdir(path, 0o750)
        made_by_the_other_slice.append(os.path.relpath(path, str(tmp_path)))
        real_mkdir(path, mode)

    monkeypatch.setattr(os, "mkdir", other_slice_first)
    store = DirectoryStore(str(tmp_path), PlainFileWriter(0o640), {}, dir_mode=0o750)
    changed = store.write("42/slices/8/report.json", "{}\n")
    monkeypatch.undo()
    written = tmp_path / "42" / "slices" / "8" / "report.json"
    assert (changed, made_by_the_other_slice, written.read_text(), oct(stat.S_IMODE(written.stat().st_mode))) == (
        True, ["42", "42/slices", "42/slices/8"], "{}\n", "0o640")
