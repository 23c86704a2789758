"""The exercises work both ways round.

* Filling every stub of a question notebook with the solution's code gives back
  exactly the solution's code cells, whose checks print ✓ (tests/test_notebooks.py
  checks the stored outputs; nbval re-runs them).
* An untouched question notebook reaches each check cell and the check says
  "not attempted yet" instead of failing: checked during nbval's own run of
  notebooks/ by the root conftest.py (tests/untouched.py); tested here.
"""

import re

import nbformat
import pytest

from helpers.authoring import BEGIN, END, STUB
from tests.test_notebooks import ROOT, SOLUTIONS
from tests.untouched import check_cell_problem, is_check_cell

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
def test_question_notebook_has_a_check_cell(path):
    question = nbformat.read(ROOT / "notebooks" / path.name, 4)
    checks = [c for c in question.cells if is_check_cell(c.source, c.metadata.get("tags", []))]
    assert checks, f"{path.name} has exercises but no check cell"


def test_untouched_rule_accepts_not_attempted_and_rejects_the_rest():
    source = "build_model = use_if_correct(check_lstm_classifier, my_build_model, ref)"
    said = [{"output_type": "stream", "name": "stdout", "text": "… not attempted yet …"}]
    assert check_cell_problem(source, [], said) is None
    for printed in ("✓ check_lstm_classifier: looks right", ""):
        outputs = [{"output_type": "stream", "name": "stdout", "text": printed}]
        assert "not attempted yet" in check_cell_problem(source, [], outputs)
    # the article's code shown raising, and cells that call no checker, are not checks
    assert check_cell_problem(source, ["raises-exception"], []) is None
    assert check_cell_problem("model.fit(x, y)", [], []) is None


class _RanCell:
    """What nbval's cell item looks like to the hook after running a cell."""

    def __init__(self, folder, printed, stored=None):
        self.path = ROOT / folder / "04_lstm_classifier.ipynb"
        self.test_outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
        # a solution cell is stored with outputs (by default what it printed again now)
        text = printed if stored is None else stored
        stored = [] if folder == "notebooks" else [
            nbformat.v4.new_output("stream", name="stdout", text=text)
        ]
        self.cell = nbformat.v4.new_code_cell("check_lstm_classifier(build_model)", outputs=stored)


def test_the_root_conftest_fails_a_question_check_that_did_not_say_not_attempted():
    import conftest  # the repository root's, which pytest has loaded as a plugin

    def call_hook(item):
        hook = conftest.pytest_runtest_call(item)
        next(hook)  # up to the cell's run
        try:
            hook.send(None)  # the cell ran without error
        except StopIteration:
            return "passed"

    assert call_hook(_RanCell("notebooks", "not attempted yet")) == "passed"
    assert call_hook(_RanCell("solutions", "✓ looks right")) == "passed"
    with pytest.raises(pytest.fail.Exception, match="not attempted yet"):
        call_hook(_RanCell("notebooks", "✓ looks right"))
    with pytest.raises(pytest.fail.Exception, match="stored output is stale"):
        call_hook(_RanCell("solutions", "✗ 1 problem found", stored="✓ looks right"))
