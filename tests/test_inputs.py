"""PATH arguments of the command line as uploaded files (CONTRACT §2)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from webapp.core.input.raw import SourceText
from webapp.inputs import InputError, read_paths


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """manifests/ with nested folders, other files, and a link back up (a loop)."""
    root = tmp_path / "manifests"
    (root / "apps" / "db").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "b.yaml").write_text("kind: B\n")
    (root / "a.yml").write_text("kind: A\n")
    (root / "apps" / "web.json").write_text("{}\n")
    (root / "apps" / "db" / "db.YAML").write_text("kind: Db\n")
    (root / "apps" / "README.md").write_text("not a manifest\n")
    (root / "apps" / "db" / "notes.txt").write_text("not a manifest\n")
    (root / "apps" / "loop").symlink_to(root, target_is_directory=True)
    return root


def names(sources: list[SourceText]) -> list[str]:
    return [source.name for source in sources]


def test_folder_is_read_recursively_in_a_stable_order(tree: Path) -> None:
    sources = read_paths([str(tree)])
    assert names(sources) == [
        f"{tree}/a.yml",
        f"{tree}/apps/db/db.YAML",
        f"{tree}/apps/web.json",
        f"{tree}/b.yaml",
    ]
    assert sources[0].data == b"kind: A\n"


def test_names_keep_the_folder_as_typed(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    assert names(read_paths(["manifests/apps/db"])) == ["manifests/apps/db/db.YAML"]
    assert names(read_paths(["manifests/apps/db/"])) == ["manifests/apps/db/db.YAML"]
    assert names(read_paths(["manifests/b.yaml"])) == ["manifests/b.yaml"]


def test_symlink_loop_ends(tree: Path) -> None:
    # apps/loop points back at manifests/: each folder is entered once, not forever.
    apps = tree / "apps"
    assert names(read_paths([str(apps)])) == [
        f"{apps}/db/db.YAML",
        f"{apps}/loop/a.yml",
        f"{apps}/loop/b.yaml",
        f"{apps}/web.json",
    ]


def test_a_file_is_read_whatever_its_name(tree: Path) -> None:
    path = str(tree / "apps" / "README.md")
    assert read_paths([path]) == [SourceText(path, b"not a manifest\n")]


def test_several_paths_and_stdin_are_one_upload(tree: Path) -> None:
    stdin = io.BytesIO(b"kind: FromStdin\n")
    sources = read_paths([str(tree / "b.yaml"), "-", str(tree / "a.yml")], stdin=stdin)
    assert names(sources) == [str(tree / "b.yaml"), "<stdin>", str(tree / "a.yml")]
    assert sources[1].data == b"kind: FromStdin\n"


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        pytest.param("missing.yaml", "missing.yaml: no such file or folder", id="missing-file"),
        pytest.param(
            "empty",
            "empty: no *.yaml, *.yml or *.json files in this folder or below it",
            id="folder-without-manifests",
        ),
    ],
)
def test_unreadable_paths(tree: Path, relative: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        read_paths([str(tree / "a.yml"), str(tree / relative)])
    assert raised.value.message == f"{tree}/{message}"


def test_no_paths() -> None:
    with pytest.raises(InputError, match="no PATH given"):
        read_paths([])


def test_broken_link_inside_a_folder_is_an_error(tree: Path) -> None:
    (tree / "gone.yaml").symlink_to(tree / "nowhere.yaml")
    with pytest.raises(InputError, match=r"gone\.yaml: cannot read it"):
        read_paths([str(tree)])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_input_is_cut_just_past_the_limit() -> None:
    [source] = read_paths(["/dev/zero"], max_bytes=1000)
    assert len(source.data) == 1001  # one byte over: the loader refuses it as too large
