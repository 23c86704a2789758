"""Run a whole question notebook with a learner's wrong answer in place of a stub.

Shared by the end-to-end "a wrong answer never blocks Run All" tests (one file per
notebook group). ``run_with_answers`` fills the chosen stubs of
``notebooks/<name>.ipynb`` with the given code (the others stay stubs), executes
every cell in order as "Run All" does, and returns the executed notebook;
``check_outputs`` gives the printed text of each check cell, and
``assert_reached_the_end`` fails when a cell raised that is not tagged
``raises-exception``.
"""

import re

import nbformat

from helpers.authoring import STUB
from tests.test_notebooks import CHECK_CALL, ROOT, output_text

STUB_RE = re.compile(rf"^([ \t]*){re.escape(STUB[0])}\n\1{re.escape(STUB[1])}$", re.M)


def _indent(code, indent):
    return "\n".join(indent + line if line.strip() else line for line in code.split("\n"))


def run_with_answers(name, answers, timeout=600):
    """Execute ``notebooks/<name>.ipynb`` top to bottom with stubs filled.

    ``answers`` maps the stub's index (0 = the first stub of the notebook, in cell
    order) to the code that replaces it (written without indentation; the stub's
    indentation is applied). Errors do not stop the run (like a learner who goes
    on); ``assert_reached_the_end`` reports them.
    """
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", 4)
    counter = iter(range(10_000))
    used = set()

    def fill(match):
        index = next(counter)
        if index not in answers:
            return match.group(0)
        used.add(index)
        return _indent(answers[index].strip("\n"), match.group(1))

    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = STUB_RE.sub(fill, cell.source)
    missing = set(answers) - used
    assert not missing, f"{name} has no stub number(s) {sorted(missing)}"
    NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    ).execute()
    return nb


def check_outputs(nb):
    """The printed text of every check cell (not the article's code run as-is)."""
    return [
        output_text(cell)
        for cell in nb.cells
        if cell.cell_type == "code"
        and CHECK_CALL.search(cell.source)
        and "raises-exception" not in cell.metadata.get("tags", [])
    ]


def assert_reached_the_end(nb):
    """Every code cell ran; only cells tagged raises-exception raised."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        assert cell.execution_count is not None, f"cell {index} never ran"
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors and "raises-exception" not in cell.metadata.get("tags", []):
            raise AssertionError(
                f"cell {index} raised {errors[0].ename}: {errors[0].evalue}\n{cell.source}"
            )


def assert_wrong_first_and_named(printed, *phrases):
    """A check cell's output for a wrong answer: the ✗ line first, each expected phrase
    (the named mistakes, the name the learner's code is kept under), no traceback."""
    assert printed.lstrip().startswith("✗"), printed
    for phrase in phrases:
        assert phrase in printed, f"{phrase!r} missing from:\n{printed}"
    assert "Traceback" not in printed, printed
