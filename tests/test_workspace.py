"""Tests for helpers.workspace: my-work/ copies that survive updates without losing edits.

Every test works on copies in tmp_path; the real my-work/ is never touched.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import workspace
from helpers.workspace import MANIFEST, WorkspaceError, format_report, main, sync_workspace

REPO_ROOT = Path(workspace.__file__).resolve().parent.parent
REAL_NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
EDIT = b'\n{"my answer": "the LSTM keeps order"}\n'


@pytest.fixture
def source(tmp_path):
    """A copy of the real notebooks/ folder (its README.md too: it must not be copied)."""
    folder = tmp_path / "notebooks"
    shutil.copytree(REPO_ROOT / "notebooks", folder)
    return folder


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "my-work"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (the manifest aside) with its bytes."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != MANIFEST}


def change_original(path: Path, marker: str) -> bytes:
    """Give an original notebook a new version (a valid notebook still); return its bytes."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"][0]["source"] = f"{marker}\n" + "".join(nb["cells"][0]["source"])
    data = (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    path.write_bytes(data)
    return data


def test_there_are_notebooks_to_copy():
    assert len(REAL_NOTEBOOKS) >= 7


def test_first_run_copies_every_notebook_byte_for_byte(source, dest):
    report = sync_workspace(source, dest)
    names = sorted(p.name for p in source.glob("*.ipynb"))
    assert sorted(report.copied) == names
    assert snapshot(dest) == {n: (source / n).read_bytes() for n in names}  # no README.md
    assert not (report.updated or report.kept or report.restored)


def test_second_run_has_nothing_to_do_and_writes_nothing(source, dest):
    sync_workspace(source, dest)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in dest.iterdir()}
    report = sync_workspace(source, dest)
    assert report.nothing_to_do
    assert sorted(report.up_to_date) == sorted(p.name for p in source.glob("*.ipynb"))
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in dest.iterdir()} == before
    assert "nothing to do" in format_report(report)


def test_edited_copy_is_kept_and_new_version_written_beside_it(source, dest):
    sync_workspace(source, dest)
    mine = dest / "04_lstm_classifier.ipynb"
    edited = mine.read_bytes() + EDIT
    mine.write_bytes(edited)
    new_version = change_original(source / "04_lstm_classifier.ipynb", "UPDATE-1")

    report = sync_workspace(source, dest)
    assert mine.read_bytes() == edited
    assert report.kept == ["04_lstm_classifier.ipynb"]
    beside = dest / "04_lstm_classifier.updated.ipynb"
    assert report.beside == {"04_lstm_classifier.ipynb": beside.name}
    assert beside.read_bytes() == new_version
    text = format_report(report)
    assert "04_lstm_classifier.ipynb" in text and beside.name in text

    # a later update refreshes the beside file; the learner's file still stays
    newer = change_original(source / "04_lstm_classifier.ipynb", "UPDATE-2")
    report = sync_workspace(source, dest)
    assert beside.read_bytes() == newer
    assert report.written_beside == [beside.name]
    assert mine.read_bytes() == edited


def test_edited_copy_without_a_new_original_is_left_alone_with_nothing_beside(source, dest):
    sync_workspace(source, dest)
    mine = dest / "02_lstm.ipynb"
    mine.write_bytes(mine.read_bytes() + EDIT)
    report = sync_workspace(source, dest)
    assert report.kept == ["02_lstm.ipynb"] and report.nothing_to_do
    assert not list(dest.glob("*.updated*"))
    text = format_report(report)  # one statement, not "kept 1 ..." then "nothing to do"
    assert "nothing to do" in text and "1 you edited stay as they are" in text
    assert "kept" not in text, text


def test_a_python_other_than_the_existing_venv_gets_a_hint(source, dest, tmp_path, monkeypatch,
                                                            capsys):
    repo = tmp_path / "repo"
    (repo / ".venv").mkdir(parents=True)
    (repo / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.setattr(workspace, "REPO_ROOT", repo)
    assert main(["--source", str(source), "--dest", str(dest)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("note: ") and ".venv" in first and "-m helpers.workspace" in first


def test_a_learner_edited_beside_file_is_never_clobbered(source, dest):
    sync_workspace(source, dest)
    mine = dest / "04_lstm_classifier.ipynb"
    mine.write_bytes(mine.read_bytes() + EDIT)
    change_original(source / "04_lstm_classifier.ipynb", "UPDATE-1")
    sync_workspace(source, dest)
    beside = dest / "04_lstm_classifier.updated.ipynb"
    beside_edited = beside.read_bytes() + EDIT
    beside.write_bytes(beside_edited)

    newer = change_original(source / "04_lstm_classifier.ipynb", "UPDATE-2")
    report = sync_workspace(source, dest)
    assert beside.read_bytes() == beside_edited
    assert report.beside["04_lstm_classifier.ipynb"] == "04_lstm_classifier.updated-2.ipynb"
    assert (dest / "04_lstm_classifier.updated-2.ipynb").read_bytes() == newer


def test_unchanged_copies_are_updated_to_the_new_original(source, dest):
    sync_workspace(source, dest)
    new_version = change_original(source / "03_attention.ipynb", "UPDATE-1")
    report = sync_workspace(source, dest)
    assert report.updated == ["03_attention.ipynb"]
    assert (dest / "03_attention.ipynb").read_bytes() == new_version
    assert not list(dest.glob("*.updated*"))


def test_new_notebook_in_the_source_appears(source, dest):
    sync_workspace(source, dest)
    added = source / "07_new_question.ipynb"
    shutil.copy(source / "00_start_here.ipynb", added)
    report = sync_workspace(source, dest)
    assert report.copied == [added.name]
    assert (dest / added.name).read_bytes() == added.read_bytes()


def test_learner_files_without_a_record_are_never_touched(source, dest):
    dest.mkdir()
    own = dest / "my_experiments.ipynb"
    own.write_bytes(b'{"mine": true}')
    same_name = dest / "01_challenges.ipynb"  # was there before the first run
    same_name.write_bytes(b"notes I keep under this name")
    report = sync_workspace(source, dest)
    assert own.read_bytes() == b'{"mine": true}'
    assert same_name.read_bytes() == b"notes I keep under this name"
    assert "01_challenges.ipynb" in report.kept and "01_challenges.ipynb" not in report.copied
    assert (dest / "01_challenges.updated.ipynb").read_bytes() == (
        source / "01_challenges.ipynb"
    ).read_bytes()
    # and on later runs too, even after an update
    change_original(source / "01_challenges.ipynb", "UPDATE-1")
    sync_workspace(source, dest)
    assert same_name.read_bytes() == b"notes I keep under this name"
    assert own.read_bytes() == b'{"mine": true}'


def test_a_deleted_copy_is_copied_again(source, dest):
    sync_workspace(source, dest)
    (dest / "05_attention_layer.ipynb").unlink()
    report = sync_workspace(source, dest)
    assert report.restored == ["05_attention_layer.ipynb"] and not report.copied
    assert (dest / "05_attention_layer.ipynb").read_bytes() == (
        source / "05_attention_layer.ipynb"
    ).read_bytes()


def test_without_the_manifest_every_existing_file_counts_as_the_learners(source, dest):
    sync_workspace(source, dest)
    mine = dest / "06_full_model.ipynb"
    mine.write_bytes(mine.read_bytes() + EDIT)
    (dest / MANIFEST).unlink()
    change_original(source / "06_full_model.ipynb", "UPDATE-1")
    before = mine.read_bytes()
    report = sync_workspace(source, dest)
    assert mine.read_bytes() == before and report.kept == ["06_full_model.ipynb"]


def test_damaged_manifest_is_a_clear_error_and_nothing_changes(source, dest):
    sync_workspace(source, dest)
    (dest / MANIFEST).write_text("{not json", encoding="utf-8")
    before = snapshot(dest)
    with pytest.raises(WorkspaceError, match="Delete it and run again"):
        sync_workspace(source, dest)
    assert snapshot(dest) == before


def test_dry_run_writes_nothing(source, dest):
    report = sync_workspace(source, dest, dry_run=True)
    assert len(report.copied) == len(list(source.glob("*.ipynb")))
    assert not dest.exists()
    assert "would copy" in format_report(report)


@pytest.mark.parametrize("make_source", ["missing", "empty"])
def test_missing_or_empty_source_is_an_error(tmp_path, dest, make_source, capsys):
    src = tmp_path / "nowhere"
    if make_source == "empty":
        src.mkdir()
    with pytest.raises(WorkspaceError):
        sync_workspace(src, dest)
    assert main(["--source", str(src), "--dest", str(dest)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(src) in err
    assert not dest.exists()


def _env_without_pythonpath():
    """The environment a notebook kernel gets: no PYTHONPATH pointing at the repo."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_cli_runs_and_reports(source, dest):
    run = subprocess.run(
        [sys.executable, "-m", "helpers.workspace", "--source", str(source), "--dest", str(dest)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert f"copied {len(list(source.glob('*.ipynb')))} new" in run.stdout
    assert "jupyter lab" in run.stdout


def test_cli_missing_source_fails_without_traceback(tmp_path, dest):
    run = subprocess.run(
        [sys.executable, "-m", "helpers.workspace", "--source", str(tmp_path / "gone")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert run.returncode != 0
    assert "does not exist" in run.stderr and "Traceback" not in run.stderr


def test_copied_notebooks_import_helpers_from_their_folder(source, dest):
    """The copies' setup cell works from my-work/: `helpers` is installed, not found by path."""
    sync_workspace(source, dest)
    first_code = next(
        cell
        for cell in json.loads((dest / "04_lstm_classifier.ipynb").read_text())["cells"]
        if cell["cell_type"] == "code"
    )
    assert "import helpers" in "".join(first_code["source"])
    # Run the import as the kernel would, with cwd = the copy's folder; resolve
    # setup_notebook (cheap: no TensorFlow import until it is called).
    run = subprocess.run(
        [sys.executable, "-c", "import helpers; helpers.setup_notebook; print(helpers.__file__)"],
        capture_output=True,
        text=True,
        cwd=dest,
        env=_env_without_pythonpath(),
    )
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout.strip()).resolve() == REPO_ROOT / "helpers" / "__init__.py"


def test_default_workspace_is_a_direct_child_of_the_repo_root():
    # keeps the notebooks' relative links (../GLOSSARY.md, ../solutions/...) valid
    assert workspace.DEFAULT_DEST.parent == REPO_ROOT == workspace.DEFAULT_SOURCE.parent
