"""An untouched exercise says "not attempted yet": checked inside nbval's own run.

nbval already executes every question notebook (``notebooks/``) top to bottom with
its stubs untouched, as a learner's first "Run All" does. The repository's root
``conftest.py`` hands each cell nbval has just run to ``untouched_check_problem``: in
a question notebook, a check cell must print "not attempted yet" (not ✓, not a
crash, not silence). Checking during that run, instead of executing each question
notebook a second time, keeps ``make test`` shorter with the same evidence.
"""

from pathlib import Path

from tests.test_notebooks import CHECK_CALL, ROOT

NOT_ATTEMPTED = "not attempted yet"


def is_check_cell(source, tags):
    """A cell that calls a checker (not one tagged to show the article's code raising)."""
    return bool(CHECK_CALL.search(source)) and "raises-exception" not in tags


def printed_text(outputs):
    """What a cell printed (stream outputs), from nbval's or nbformat's output list."""
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")


def check_cell_problem(source, tags, outputs):
    """None when the cell is fine; else a message naming what the check printed instead."""
    if not is_check_cell(source, tags):
        return None
    printed = printed_text(outputs)
    if NOT_ATTEMPTED in printed:
        return None
    return (
        f"an untouched exercise's check cell must print {NOT_ATTEMPTED!r}; it printed "
        f"{printed.strip()[:300]!r}"
    )


def nbval_cell_that_ran(item, folder):
    """``(stored cell, outputs printed now)`` for an nbval cell of ``<folder>/*.ipynb`` that
    has run; None for any other test item or a cell that never ran (its failure is reported)."""
    cell = getattr(item, "cell", None)
    outputs = getattr(item, "test_outputs", None)
    if cell is None or outputs is None or Path(str(item.path)).parent != ROOT / folder:
        return None
    return cell, outputs


def untouched_check_problem(item):
    """For an nbval cell item of ``notebooks/*.ipynb`` that has run: the problem, or None."""
    ran = nbval_cell_that_ran(item, "notebooks")  # solutions print ✓ (test_notebooks checks)
    if ran is None:
        return None
    cell, outputs = ran
    return check_cell_problem(cell.source, cell.metadata.get("tags", []), outputs)
