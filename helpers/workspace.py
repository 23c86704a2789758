"""Your own copy of the question notebooks: ``my-work/``, safe across updates.

``python -m helpers.workspace`` (or ``make workspace``) copies ``notebooks/*.ipynb``
into ``my-work/`` at the repository root (git-ignored). Work there: ``git pull`` can
then update ``notebooks/`` without ever touching your answers.

Run it again after an update and it

- copies notebooks that are new in ``notebooks/``;
- updates a copy you have **not** changed to the new version;
- **never overwrites a copy you changed**: it names the file, leaves it byte for byte
  alone and writes the new version beside it, e.g. ``04_lstm_classifier.updated.ipynb``
  (refreshed on later runs; if you edit that file too, the next one is
  ``04_lstm_classifier.updated-2.ipynb``);
- copies a notebook again when you deleted your copy: delete a copy to start it over;
- never touches any other file (your own notebooks, files it did not write).

How it knows what you changed: ``my-work/.workspace.json`` records the SHA-256 of
every file it wrote. A file whose bytes no longer match its record is yours; a file
with no record is yours too. Deleting ``.workspace.json`` is safe: every existing
file then counts as yours and is kept, with new versions written beside it.

Why no path tricks are needed: the copies start with ``import helpers`` exactly like
the originals, and ``helpers`` is installed editable (``-e .`` in requirements.txt),
so it imports from any folder. ``my-work/`` is a direct child of the repository root,
like ``notebooks/``, so the notebooks' relative links (``../GLOSSARY.md``,
``../solutions/...``) still resolve from the copies.

Usage::

    python -m helpers.workspace               # create or update my-work/
    python -m helpers.workspace --dry-run     # only say what would happen
    make workspace ARGS=--dry-run             # the same through make

Only the standard library is imported: this runs instantly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from helpers.setup import other_python_hint  # standard library only

__all__ = ["WorkspaceError", "WorkspaceReport", "main", "sync_workspace"]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / "notebooks"
DEFAULT_DEST = REPO_ROOT / "my-work"  # a sibling of notebooks/: relative links keep working
MANIFEST = ".workspace.json"
MANIFEST_VERSION = 1


class WorkspaceError(ValueError):
    """A problem the learner can fix (missing source, unreadable manifest...)."""


@dataclass
class WorkspaceReport:
    """What one run did (or, with ``dry_run``, would do). Lists hold file names."""

    dest: Path
    copied: list[str] = field(default_factory=list)  # notebooks new to this workspace
    restored: list[str] = field(default_factory=list)  # copies the learner deleted, copied again
    updated: list[str] = field(default_factory=list)  # unchanged copies brought up to date
    kept: list[str] = field(default_factory=list)  # changed by you and left alone
    beside: dict[str, str] = field(default_factory=dict)  # kept file -> new version's file
    written_beside: list[str] = field(default_factory=list)  # beside files written this run
    up_to_date: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def nothing_to_do(self) -> bool:
        return not (self.copied or self.restored or self.updated or self.written_beside)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_hash(path: Path) -> str | None:
    return _sha256(path.read_bytes()) if path.is_file() else None


def _load_manifest(dest: Path) -> dict[str, str]:
    """{file name: sha256 of the bytes this tool last wrote there}."""
    path = dest / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise TypeError("entries must map file names to hashes")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise WorkspaceError(
            f"{path} is damaged ({error}). Delete it and run again: your notebooks are kept "
            "(files without a record are never overwritten)."
        ) from None
    return dict(files)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file, so an interrupted run never leaves half a notebook."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _beside_names(name: str):
    """Candidate names for the new version of ``name``: X.updated.ipynb, X.updated-2.ipynb..."""
    stem, suffix = os.path.splitext(name)
    yield f"{stem}.updated{suffix}"
    for n in range(2, 1000):
        yield f"{stem}.updated-{n}{suffix}"


def _is_beside_file(name: str) -> bool:
    stem = os.path.splitext(name)[0]
    return stem.endswith(".updated") or ".updated-" in stem


def sync_workspace(
    source: Path | str = DEFAULT_SOURCE,
    dest: Path | str = DEFAULT_DEST,
    *,
    dry_run: bool = False,
) -> WorkspaceReport:
    """Create or update ``dest`` from ``source/*.ipynb`` without losing the learner's work.

    Raises :class:`WorkspaceError` when ``source`` is missing or holds no notebook, when
    ``dest`` is a file, or when the manifest is unreadable.
    """
    source, dest = Path(source), Path(dest)
    if not source.is_dir():
        raise WorkspaceError(f"the notebooks folder {source} does not exist.")
    originals = sorted(p for p in source.glob("*.ipynb") if not _is_beside_file(p.name))
    if not originals:
        raise WorkspaceError(f"{source} holds no notebook (*.ipynb): nothing to copy.")
    if dest.exists() and not dest.is_dir():
        raise WorkspaceError(f"{dest} exists and is not a folder; pass another --dest.")
    if dest.resolve() == source.resolve():
        raise WorkspaceError(f"--dest {dest} is the source folder itself; pick another folder.")

    manifest = _load_manifest(dest) if dest.is_dir() else {}
    report = WorkspaceReport(dest=dest, dry_run=dry_run)

    def write(name: str, data: bytes) -> None:
        manifest[name] = _sha256(data)
        if not dry_run:
            dest.mkdir(parents=True, exist_ok=True)
            _write_atomically(dest / name, data)

    for original in originals:
        name, data = original.name, original.read_bytes()
        new_hash, current = _sha256(data), _file_hash(dest / name)
        recorded = manifest.get(name)
        if current is None:  # never copied, or the learner deleted the copy: copy it
            write(name, data)
            (report.copied if recorded is None else report.restored).append(name)
        elif current == new_hash:  # already the new version (or the learner pasted it in)
            manifest[name] = new_hash
            report.up_to_date.append(name)
        elif current == recorded:  # untouched since we copied it: safe to replace
            write(name, data)
            report.updated.append(name)
        elif recorded == new_hash:
            # The learner's edits; the original has not changed since, so nothing new to
            # offer. Their file stays as it is and nothing is written beside it.
            report.kept.append(name)
        else:  # changed by the learner (or not ours) and a new version exists
            report.kept.append(name)
            report.beside[name] = _write_beside(name, data, dest, manifest, report, write)

    if not dry_run and dest.is_dir():
        text = json.dumps(
            {"version": MANIFEST_VERSION, "files": manifest}, indent=1, sort_keys=True
        )
        if _file_hash(dest / MANIFEST) != _sha256(encoded := (text + "\n").encode("utf-8")):
            _write_atomically(dest / MANIFEST, encoded)
    return report


def _write_beside(name, data, dest, manifest, report, write) -> str:
    """Put the new version of ``name`` beside the learner's file; return the name used.

    Uses the first candidate name that is free or still holds exactly what this tool
    wrote there, so a beside file the learner edited is never clobbered either.
    """
    new_hash = _sha256(data)
    for candidate in _beside_names(name):
        current = _file_hash(dest / candidate)
        if current is None or current == manifest.get(candidate):
            if current != new_hash:
                write(candidate, data)
                report.written_beside.append(candidate)
            return candidate
        if current == new_hash:  # the learner made this copy themselves: it is current
            return candidate
    raise WorkspaceError(f"too many {name} updates beside each other in {dest}; tidy them up.")


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it (shorter to read)."""
    try:
        return f"{path.resolve().relative_to(Path.cwd().resolve())}/"
    except ValueError:
        return f"{path}/"


def format_report(report: WorkspaceReport) -> str:
    """A short, friendly summary, ending with the command that opens the workspace."""
    where = _shown(report.dest)
    dry = report.dry_run
    lines = [f"Your workspace: {where}" + ("  (dry run: nothing written)" if dry else "")]

    def line(done: str, would: str, names: list[str], what: str = "") -> None:
        if names:
            head = f"  {would if dry else done} {len(names)}{what}: "
            lines.append(
                textwrap.fill(
                    ", ".join(names),
                    88,
                    initial_indent=head,
                    subsequent_indent="      ",
                    break_on_hyphens=False,
                )
            )

    line("copied", "would copy", report.copied, " new")
    line("copied again", "would copy again", report.restored, " you had deleted")
    line("updated", "would update", report.updated, " you had not changed")
    if report.nothing_to_do:  # one statement, whether or not you edited some copies
        edited = len(report.kept)
        yours = f"; the {edited} you edited stay as they are" if edited else ""
        lines.append(f"  nothing to do: no notebook changed since the last run{yours}.")
        for kept, beside in report.beside.items():  # written by an earlier run
            lines.append(f"  the new version of {kept} is still beside it: {beside}")
    else:
        line("kept", "would keep", report.kept, " you edited, untouched")
        for beside in report.beside.values():
            # the beside name starts with the kept file's name, so one line per file is clear
            lines.append(f"      new version {'would go ' if dry else ''}beside it: {beside}")
    # `make lab` opens my-work/ when it exists; another --dest needs the explicit command
    is_default = report.dest.resolve() == DEFAULT_DEST.resolve()
    opener = f"make lab   (or: jupyter lab {where})" if is_default else f"jupyter lab {where}"
    lines.append(f"Open it: {opener}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.workspace",
        description="Copy the question notebooks into your own folder (my-work/), "
        "and update it later without overwriting anything you changed.",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help="notebooks to copy (default: notebooks/)",
    )
    parser.add_argument(
        "--dest",
        type=Path,
        default=DEFAULT_DEST,
        help="your folder (default: my-work/ at the repository root)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would happen; write nothing"
    )
    args = parser.parse_args(argv)
    try:
        report = sync_workspace(args.source, args.dest, dry_run=args.dry_run)
    except (WorkspaceError, OSError) as error:  # no traceback: a message the learner can act on
        print(f"error: {error}", file=sys.stderr)
        return 1
    hint = other_python_hint(REPO_ROOT, "-m helpers.workspace")
    if hint:  # the copies work, but the notebooks must then run with .venv's Jupyter
        print(hint + "   (or: make workspace)")
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
