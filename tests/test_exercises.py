"""The exercises work both ways round.

* Filling every stub of a question notebook with the solution's code gives back
  exactly the solution's code cells, whose checks print ✓ (tests/test_notebooks.py
  checks the stored outputs; nbval re-runs them).
* An untouched question notebook reaches each check cell and the check says
  "not attempted yet" instead of failing (executed here up to its last check).
"""

import re

import nbformat
import pytest

from helpers.authoring import BEGIN, END, STUB
from tests.test_notebooks import CHECK_CALL, ROOT, SOLUTIONS

WITH_EXERCISES = [
    p for p in SOLUTIONS if BEGIN in "".join(c.source for c in nbformat.read(p, 4).cells)
]
STUB_RE = re.compile(rf"^([ \t]*){re.escape(STUB[0])}\n\1{re.escape(STUB[1])}$", re.M)


def solution_regions(source):
    """The code between each BEGIN/END SOLUTION pair, in order (markers excluded)."""
    regions, current = [], None
    for line in source.split("\n"):
        if line.strip().startswith(BEGIN):
            current = []
        elif line.strip().startswith(END):
            regions.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return regions


def without_markers(source):
    return "\n".join(
        line for line in source.split("\n") if not line.strip().startswith((BEGIN, END))
    )


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_filling_the_stubs_with_the_solution_gives_the_solution(path):
    solution = {c.id: c for c in nbformat.read(path, 4).cells}
    question = nbformat.read(ROOT / "notebooks" / path.name, 4)
    filled_any = False
    for cell in question.cells:
        if cell.cell_type != "code" or BEGIN not in solution[cell.id].source:
            continue
        regions = iter(solution_regions(solution[cell.id].source))
        filled = STUB_RE.sub(lambda _, regions=regions: next(regions), cell.source)
        assert next(regions, None) is None, "more solution regions than stubs"
        assert filled == without_markers(solution[cell.id].source)
        filled_any = True
    assert filled_any


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_untouched_question_notebook_says_not_attempted(path):
    from nbclient import NotebookClient

    question = nbformat.read(ROOT / "notebooks" / path.name, 4)
    checks = [
        i
        for i, c in enumerate(question.cells)
        if CHECK_CALL.search(c.source) and "raises-exception" not in c.metadata.get("tags", [])
    ]
    assert checks, f"{path.name} has exercises but no check cell"
    question.cells = question.cells[: checks[-1] + 1]  # run up to the last check only
    NotebookClient(
        question, timeout=600, resources={"metadata": {"path": str(ROOT / "notebooks")}}
    ).execute()
    for index in checks:
        printed = "".join(o.get("text", "") for o in question.cells[index].outputs)
        assert "not attempted yet" in printed, f"cell {index} printed: {printed!r}"
