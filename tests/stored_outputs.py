"""A solution's stored output must still be what its code prints: checked inside nbval's run.

nbval runs with ``--nbval-lax`` (timings and the last digits of trained models vary by
machine, so no output is compared verbatim). That alone lets a stored output go stale:
09's answer sheet once printed "26/26 — full marks" while re-executed it said 26/42.
The repository's root ``conftest.py`` hands each cell of ``solutions/*.ipynb`` that nbval
has just run to ``stale_output_problem``: what the cell printed now and what is stored
must read the same once every number is replaced by ``#`` and runs of white space are
collapsed. A different count, a sign word, a ✓ turned ✗, a line more or less is caught;
a number that moved in its last digits is not (the prose tests pin quoted numbers).
"""

import re

from tests.untouched import nbval_cell_that_ran

# 0x7f3a... (an object's address in its repr), 12, -0.0430, +1.2e-07, 1,894, .5, −3
NUMBER = re.compile(r"0x[0-9a-fA-F]+|[-+−]?(?:\d+(?:,\d{3})*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
SPACE = re.compile(r"\s+")


def shown_text(outputs):
    """What a cell showed as text: its stdout and its result's text/plain (not stderr)."""
    parts = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            parts.append(text if isinstance(text, str) else "".join(text))
        elif kind == "execute_result":
            text = output.get("data", {}).get("text/plain", "")
            parts.append(text if isinstance(text, str) else "".join(text))
    return "".join(parts)


def skeleton(text):
    """The text with every number as ``#`` and white space collapsed (line wrapping too)."""
    return SPACE.sub(" ", NUMBER.sub("#", text)).strip()


def stale_problem(stored_outputs, fresh_outputs):
    """None when the stored and the fresh outputs read the same; else what differs."""
    stored, fresh = skeleton(shown_text(stored_outputs)), skeleton(shown_text(fresh_outputs))
    if stored == fresh:
        return None
    pairs = zip(stored, fresh, strict=False)  # the first character that differs
    at = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(stored), len(fresh)))
    start = max(0, at - 60)
    return (
        "the stored output is stale (numbers aside, the cell now prints something else): "
        f"stored ...{stored[start:at + 80]!r}... vs now ...{fresh[start:at + 80]!r}...; "
        "re-execute the solution notebook and run `python -m helpers.authoring`"
    )


def stale_output_problem(item):
    """For an nbval cell item of ``solutions/*.ipynb`` that has run: the problem, or None."""
    ran = nbval_cell_that_ran(item, "solutions")  # question notebooks store no outputs
    if ran is None:
        return None
    cell, outputs = ran
    return stale_problem(cell.outputs, outputs)
