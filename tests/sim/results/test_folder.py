"""gridledger replaces only a results folder it made: a plain folder, the working directory, a folder above it,
the home folder and a folder with a foreign ``manifest.json`` are refused and left untouched."""

from __future__ import annotations

import json
import os

import pytest

from sim.cli import main
from sim.results.folder import MARKER, ResultsExistError, default_folder, prepare_folder, write_json
from tests.conftest import ROOT

MANIFEST = {"run_id": "demo-seed0-00000000"}


def _snapshot(folder):
    return sorted((p.relative_to(folder).as_posix(), p.read_bytes()) for p in folder.rglob("*") if p.is_file())


def _user_folder(tmp_path, name="thesis"):
    folder = tmp_path / name
    (folder / "chapter").mkdir(parents=True)
    (folder / "chapter" / "draft.tex").write_text("four years of work")
    return folder


@pytest.mark.parametrize("force", [False, True])
def test_a_plain_folder_is_refused_and_untouched(tmp_path, force):
    folder = _user_folder(tmp_path)
    before = _snapshot(folder)
    with pytest.raises(ResultsExistError, match="not a results folder gridledger made"):
        prepare_folder(folder, force=force, manifest=MANIFEST)
    assert _snapshot(folder) == before


@pytest.mark.parametrize("force", [False, True])
def test_a_foreign_manifest_does_not_make_a_folder_ours(tmp_path, force):
    folder = _user_folder(tmp_path)
    (folder / "manifest.json").write_text(json.dumps({"status": "incomplete", "anything": 1}))
    before = _snapshot(folder)
    with pytest.raises(ResultsExistError, match="untouched"):
        prepare_folder(folder, force=force, manifest=MANIFEST)
    assert _snapshot(folder) == before


@pytest.mark.parametrize("where", ["cwd", "parent", "home"])
def test_the_working_directory_its_parents_and_home_are_never_replaced(tmp_path, monkeypatch, where):
    work = _user_folder(tmp_path, "work")
    write_json(work / MARKER, {"made_by": "gridledger", "run_id": "x"})  # even with the marker
    monkeypatch.chdir(work / "chapter")
    monkeypatch.setenv("HOME", str(work))
    target = {"cwd": work / "chapter", "parent": work, "home": work}[where]
    before = _snapshot(work)
    with pytest.raises(ResultsExistError, match="working directory|home folder"):
        prepare_folder(target, force=True, manifest=MANIFEST)
    assert _snapshot(work) == before


def test_an_empty_folder_is_used_and_our_own_is_replaced(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_folder(empty, force=False, manifest=MANIFEST) == empty
    assert json.loads((empty / MARKER).read_text())["run_id"] == MANIFEST["run_id"]
    (empty / "stale.parquet").write_bytes(b"old")
    prepare_folder(empty, force=False, manifest=MANIFEST)  # ours and incomplete: replaced
    assert not (empty / "stale.parquet").exists()
    write_json(empty / "manifest.json", {"status": "complete"})
    with pytest.raises(ResultsExistError, match="--force"):
        prepare_folder(empty, force=False, manifest=MANIFEST)
    prepare_folder(empty, force=True, manifest=MANIFEST)
    assert json.loads((empty / "manifest.json").read_text())["status"] == "incomplete"


def test_a_file_or_symlink_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    os.symlink(_user_folder(tmp_path), tmp_path / "link")
    for name in ("file", "link"):
        with pytest.raises(ResultsExistError, match="not a folder"):
            prepare_folder(tmp_path / name, force=True, manifest=MANIFEST)
    assert (tmp_path / "thesis" / "chapter" / "draft.tex").read_text() == "four years of work"


def test_the_default_folder_steps_past_what_is_not_ours(tmp_path):
    _user_folder(tmp_path, "demo")
    assert default_folder(tmp_path, "demo") == tmp_path / "demo-2"


def test_the_cli_refuses_out_onto_the_working_directory(tmp_path, monkeypatch, capsys):
    folder = _user_folder(tmp_path)
    monkeypatch.chdir(folder)
    before = _snapshot(folder)
    assert main(["run", str(ROOT / "scenarios" / "vpp.toml"), "--out", ".", "--force"]) == 2
    assert "working directory" in capsys.readouterr().err
    assert _snapshot(folder) == before
