"""The package checks (tests/support/package/check_build.py): what may ship, and a build from a used tree."""

from __future__ import annotations

import importlib.util
import io
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "support" / "package" / "check_build.py"


def load_check_build():
    """Import check_build by path: tests/support is a script directory, not a package."""
    spec = importlib.util.spec_from_file_location("check_build", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_build = load_check_build()


def member(name, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def complete_tarball(*extra):
    """Members of a tarball that holds every required file and one role with its README."""
    names = [*check_build.REQUIRED, "MANIFEST.json", "FILES.json", "roles/demo/tasks/main.yml", "roles/demo/README.md"]
    return [member(name) for name in names] + list(extra)


@pytest.mark.parametrize("name, is_dir", [
    ("plugins/modules/iam_access_key_rotate.py", False),
    ("tests/sanity/ignore-2.17.txt", False),
    ("tests/config.yml", False),
    ("tests", True),
    ("docs/ee/execution-environment.yml", False),
    ("LICENSES/GPL-3.0-or-later.txt", False),
])
def test_shipped_content_is_allowed(name, is_dir):
    assert check_build.is_shipped(name, is_dir) is True


@pytest.mark.parametrize("name, is_dir", [
    ("tests/unit/conftest.py", False),
    ("tests/support", True),
    ("benchmarks", True),
    (".demo", True),
    (".venv-package/pyvenv.cfg", False),
    ("scripts/lib.sh", False),
    ("testsuite.yml", False),
    ("tests", False),
])
def test_development_content_is_not_allowed(name, is_dir):
    assert check_build.is_shipped(name, is_dir) is False


def test_a_complete_tarball_has_no_problems():
    assert check_build.tarball_problems(complete_tarball()) == []


def test_each_development_file_and_symlink_is_named():
    members = complete_tarball(
        member("benchmarks/results/fleet.json"),
        member(".demo/collections/ansible_collections/rotator/aws_iam", tarfile.SYMTYPE, "../../../.."),
        member("docs/loop", tarfile.SYMTYPE, ".."),
    )

    assert check_build.tarball_problems(members) == [
        "development file in the tarball: benchmarks/results/fleet.json",
        "symlink in the tarball: .demo/collections/ansible_collections/rotator/aws_iam -> ../../../..",
        "symlink in the tarball: docs/loop -> ..",
    ]


def test_missing_licence_and_role_readme_are_named():
    members = [m for m in complete_tarball(member("roles/other/meta/main.yml"))
               if m.name != check_build.LICENSE_FILE]

    assert check_build.tarball_problems(members) == [
        f"missing from the tarball: {check_build.LICENSE_FILE}",
        "missing from the tarball: roles/other/README.md",
    ]


def test_galaxy_stage_paths_map_into_the_context(tmp_path):
    assert check_build.in_context(tmp_path, "/build/collections/x.tar.gz") == tmp_path / "_build" / "collections" / "x.tar.gz"
    assert check_build.in_context(tmp_path, "/home/me/x.tar.gz") is None


def test_a_header_citing_another_licence_file_is_named(tmp_path):
    tarball = tmp_path / "c.tar.gz"
    files = {
        "MANIFEST.json": b'{"collection_info": {"license": ["GPL-3.0-or-later"]}}',
        "LICENSES/GPL-3.0-or-later.txt": b"                    GNU GENERAL PUBLIC LICENSE\n                       Version 3, 29 June 2007\n",
        "plugins/modules/good.py": b"# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt)\n",
        "plugins/modules/bad.py": b"# GNU General Public License v3.0+ (see COPYING)\n",
    }
    with tarfile.open(tarball, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))

    assert check_build.license_problems(tarball) == [
        "plugins/modules/bad.py: its licence header does not name LICENSES/GPL-3.0-or-later.txt",
    ]


def test_a_build_from_a_used_tree_ships_no_development_file(tmp_path):
    tree = tmp_path / "tree"
    dist = tmp_path / "dist"
    dist.mkdir()
    made = check_build.make_used_tree(tree)

    tarball = check_build.build(tree, dist)
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()

    assert (tree / ".demo/collections/ansible_collections/rotator/aws_iam").resolve() == tree.resolve()
    assert len(made) == len(check_build.DEV_FILES) + len(check_build.DEV_LINKS)
    assert check_build.tarball_problems(members) == []


def yaml_blocks(markdown):
    """The bodies of a Markdown text's ```yaml blocks."""
    return [part.split("```")[0].split("\n", 1)[1] for part in markdown.split("```yaml")[1:]]


def test_docs_awx_shows_the_recipe_that_ci_builds():
    """docs/awx.md section 1 quotes docs/ee/execution-environment.yml; the two must not drift apart."""
    yaml = pytest.importorskip("yaml")
    repo = SCRIPT.parents[3]
    recipe = yaml.safe_load((repo / check_build.EE_RECIPE).read_text())
    doc = (repo / "docs" / "awx.md").read_text()

    quoted = [yaml.safe_load(block) for block in yaml_blocks(doc) if "additional_build_files" in block]

    assert quoted == [recipe]


def test_importer_errors_and_skipped_checks_fail_and_its_warnings_do_not():
    log = "\n".join([
        "Importing with galaxy-importer 0.4.44",
        "WARNING: ansible-doc not found, skipping loading of docstrings",
        "WARNING: roles/x/tasks/main.yml:3:9: jinja[spacing]: Jinja2 spacing could be improved (warning)",
        "ERROR: The import failed for the following reason: No role readme found.",
    ])

    assert check_build.importer_problems(log, 1) == [
        "galaxy-importer: ERROR: The import failed for the following reason: No role readme found.",
        "galaxy-importer: WARNING: ansible-doc not found, skipping loading of docstrings",
    ]


def test_a_clean_import_has_no_problems():
    assert check_build.importer_problems("Importing with galaxy-importer 0.4.44\nImporter processing completed successfully", 0) == []


def test_litter_is_never_written_through_a_link_out_of_the_tree(tmp_path):
    tree = tmp_path / "tree"
    outside = tmp_path / "real-venv"
    (outside / "lib/python3.11/site-packages/rotator-litter").mkdir(parents=True)
    real = outside / "lib/python3.11/site-packages/rotator-litter/__init__.py"
    real.write_text("real\n")
    tree.mkdir()
    (tree / ".venv").symlink_to(outside)

    with pytest.raises(SystemExit, match="no litter written through it"):
        check_build.add_dev_litter(tree)

    assert real.read_text() == "real\n"
    assert not (outside / "pyvenv.cfg").exists()
