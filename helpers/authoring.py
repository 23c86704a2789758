"""Build the learners' question notebooks (``notebooks/``) from ``solutions/``.

``solutions/NN_name.ipynb`` is the single source, stored executed. The question
notebook ``notebooks/NN_name.ipynb`` is derived from it:

- in code cells, every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region is
  replaced by ``# YOUR CODE HERE`` / ``raise NotImplementedError`` at the same
  indentation, so an untouched exercise makes the checkers say "not attempted yet";
- markdown cells tagged ``answer`` become a prompt (their heading line is kept);
- cells tagged ``solution-only`` are dropped;
- outputs, execution counts and volatile metadata are cleared, so regenerating
  gives identical bytes and git diffs stay small.

Usage::

    python -m helpers.authoring            # rebuild notebooks/ (same as `make notebooks`)
    python -m helpers.authoring --check    # exit 1 if notebooks/ is out of date (CI)

Only the standard library and nbformat are imported: this runs in a fast test.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

__all__ = ["build", "main", "question_notebook", "stale"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
ANSWER_TAG = "answer"
SOLUTION_ONLY_TAG = "solution-only"
ANSWER_PROMPT = "*Write your answer here.*"
# Cell metadata worth keeping: tags drive nbval ("raises-exception", "nbval-skip")
# and "jupyter" holds hidden-source flags. Everything else (timings, scroll state)
# changes on every run of the solution and would only make noisy diffs.
KEEP_CELL_METADATA = ("tags", "jupyter")
FIX_COMMAND = "`python -m helpers.authoring` (or `make notebooks`)"
DEFAULT_ROOT = Path(__file__).resolve().parent.parent


def _stub_regions(source: str, where: str) -> str:
    """Replace each BEGIN/END SOLUTION region (markers included) by an indented stub."""
    out: list[str] = []
    indent = None  # indentation of the open BEGIN marker, None outside a region
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if indent is not None:
                raise ValueError(f"{where}: '{BEGIN}' inside another solution region")
            indent = line[: len(line) - len(line.lstrip())]
        elif stripped.startswith(END):
            if indent is None:
                raise ValueError(f"{where}: '{END}' without a matching '{BEGIN}'")
            out.extend(indent + stub for stub in STUB)
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"{where}: '{BEGIN}' without a matching '{END}'")
    return "\n".join(out)


def _answer_prompt(source: str) -> str:
    """The prompt that replaces an answer cell: its heading line, if any, then a request."""
    first = source.lstrip("\n").split("\n", 1)[0].rstrip()
    return f"{first}\n\n{ANSWER_PROMPT}" if first.startswith("#") else ANSWER_PROMPT


def question_notebook(solution_nb, name: str = "solution notebook") -> nbformat.NotebookNode:
    """Return the question notebook for ``solution_nb`` (the input is not modified).

    ``name`` only appears in error messages (unmatched solution markers).
    """
    cells = []
    for index, cell in enumerate(solution_nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if SOLUTION_ONLY_TAG in tags:
            continue
        new = copy.deepcopy(cell)
        source = "".join(new.source) if isinstance(new.source, list) else new.source
        new.metadata = {
            k: v for k, v in cell.get("metadata", {}).items() if k in KEEP_CELL_METADATA
        }
        # Keep the source's ids so diffs stay small; a stable fallback for old notebooks.
        new.id = cell.get("id") or f"cell-{index}"
        if new.cell_type == "code":
            new.source = _stub_regions(source, f"{name}, cell {index}")
            new.outputs = []
            new.execution_count = None
        elif new.cell_type == "markdown" and ANSWER_TAG in tags:
            new.source = _answer_prompt(source)
            new.pop("attachments", None)
        else:
            new.source = source
        cells.append(new)

    metadata = {}
    if "kernelspec" in solution_nb.metadata:
        metadata["kernelspec"] = copy.deepcopy(solution_nb.metadata.kernelspec)
    language = solution_nb.metadata.get("language_info", {}).get("name")
    if language:
        metadata["language_info"] = {"name": language}
    return nbformat.from_dict(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells}
    )


def _render(solution_path: Path) -> bytes:
    """The exact bytes the question notebook for ``solution_path`` should have."""
    nb = nbformat.read(solution_path, as_version=4)
    text = nbformat.writes(question_notebook(nb, name=f"solutions/{solution_path.name}"))
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _solutions(root: Path) -> list[Path]:
    return sorted((root / "solutions").glob("*.ipynb"))


def _orphans(root: Path) -> list[Path]:
    """Question notebooks whose solution was deleted or renamed."""
    names = {p.name for p in _solutions(root)}
    return [p for p in sorted((root / "notebooks").glob("*.ipynb")) if p.name not in names]


def build(root: Path | str = DEFAULT_ROOT) -> list[Path]:
    """Regenerate ``notebooks/`` from ``solutions/``; return the notebooks written.

    Unchanged notebooks are not rewritten (their mtime stays). Orphaned question
    notebooks are deleted; other files in ``notebooks/`` are left alone.
    """
    root = Path(root)
    (root / "notebooks").mkdir(exist_ok=True)
    written = []
    for solution in _solutions(root):
        target = root / "notebooks" / solution.name
        content = _render(solution)
        if not target.exists() or target.read_bytes() != content:
            target.write_bytes(content)
            written.append(target)
            print(f"wrote notebooks/{target.name}")
    for orphan in _orphans(root):
        orphan.unlink()
        print(f"deleted notebooks/{orphan.name} (solutions/{orphan.name} no longer exists)")
    return written


def stale(root: Path | str = DEFAULT_ROOT) -> list[str]:
    """Describe every way ``notebooks/`` differs from what ``build`` would write."""
    root = Path(root)
    problems = []
    for solution in _solutions(root):
        target = root / "notebooks" / solution.name
        if not target.exists():
            problems.append(f"notebooks/{target.name} is missing")
        elif target.read_bytes() != _render(solution):
            problems.append(f"notebooks/{target.name} is out of date with solutions/{target.name}")
    for orphan in _orphans(root):
        problems.append(f"notebooks/{orphan.name} is orphaned: solutions/{orphan.name} is gone")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.authoring",
        description="Generate the question notebooks in notebooks/ from solutions/.",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if notebooks/ is out of date"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help="repository root (default: the one holding helpers/)",
    )
    args = parser.parse_args(argv)
    try:
        if not args.check:
            written = build(args.root)
            if not written:
                print(f"notebooks/ is up to date ({len(_solutions(args.root))} notebooks)")
            return 0
        problems = stale(args.root)
    except ValueError as error:  # unmatched solution markers: a fault in a solution
        print(f"error: {error}", file=sys.stderr)
        return 1
    if problems:
        print("notebooks/ is out of date:")
        for problem in problems:
            print(f"  - {problem}")
        print(f"Fix: run {FIX_COMMAND}, then commit notebooks/.")
        return 1
    print(f"notebooks/ is up to date ({len(_solutions(args.root))} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
