"""`trivium new --directory` where no folder can be made: one line naming the path, nothing left."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import trivium.cli._new
from trivium.cli import main

pytestmark = pytest.mark.drives_no_app


def _new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["new", "blog", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("under", ["sub", "sub/deeper"])
def test_a_folder_under_a_file_is_one_line_naming_the_file(tmp_path: Path, under: str) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    code, output = _new("--directory", str(afile / under))
    assert code == 1
    assert "Traceback" not in output
    assert output == (
        f"Error: cannot create the folder {afile / under}: {afile} is a file, not a folder; "
        "choose a place where you can create folders (--directory PATH)\n"
    )
    assert afile.read_text() == "not a folder"


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    # sysfs refuses new folders, even to root (a chmod would not stop root).
    sys_folder = Path("/sys/trivium-test-new/blog")
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs Linux's /sys")
    code, output = _new("--directory", str(sys_folder))
    assert code == 1
    assert output.startswith(f"Error: cannot create the folder {sys_folder}: ")
    assert output.endswith("choose a place where you can create folders (--directory PATH)\n")
    assert output.count("\n") == 1


def test_the_default_folder_being_a_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blog").write_text("a file named like the project")
    code, output = _new()
    assert code == 1
    assert output.startswith(f"Error: cannot create the folder {tmp_path / 'blog'}: ")
    assert f"{tmp_path / 'blog'} is a file, not a folder" in output


def test_folders_made_for_the_project_are_removed_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(target: Path, name: str) -> None:
        del target, name
        raise PermissionError(13, "Permission denied", str(tmp_path / "a" / "b" / "blog" / "x"))

    monkeypatch.setattr(trivium.cli._new, "_first_migration", broken)
    code, output = _new("--directory", str(tmp_path / "a" / "b" / "blog"))
    assert code == 1
    assert output == (
        f"Error: cannot write {tmp_path / 'a' / 'b' / 'blog' / 'x'}: permission denied; "
        "choose a folder you can write to (--directory PATH)\n"
    )
    assert list(tmp_path.iterdir()) == []  # a/ and a/b/ too, not only blog/


def test_an_empty_folder_given_stays_empty_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(target: Path, name: str) -> None:
        del target, name
        raise RuntimeError("boom")

    folder = tmp_path / "blog"
    folder.mkdir(mode=0o750)
    monkeypatch.setattr(trivium.cli._new, "_first_migration", broken)
    result = CliRunner().invoke(main, ["new", "blog", "--directory", str(folder)])
    assert isinstance(result.exception, RuntimeError)
    assert folder.is_dir()
    assert list(folder.iterdir()) == []
    assert folder.stat().st_mode & 0o777 == 0o750
