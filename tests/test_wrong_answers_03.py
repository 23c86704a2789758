"""Notebook 03 run end to end with a typical wrong masked softmax: Run All reaches the end.

The learner's answer normalises over the wrong axis (the batch) and ignores the mask.
The check cell must print ✗ first with the named mistakes, keep the answer as
``my_masked_softmax_np``, and the cells below must go on with the reference, so the
padding demonstration still shows exactly zero weight on padding when masked.
"""

import pytest

from tests.test_notebooks import output_text
from tests.wrong_answers import (
    assert_reached_the_end,
    assert_wrong_first_and_named,
    check_outputs,
    run_with_answers,
)

WRONG_AXIS_NO_MASK = """
e = np.exp(scores - scores.max(axis=0, keepdims=True))
return e / e.sum(axis=0, keepdims=True)
"""


@pytest.fixture(scope="module")
def executed():
    return run_with_answers("03_attention", {0: WRONG_AXIS_NO_MASK})


def test_run_all_reaches_the_end(executed):
    assert_reached_the_end(executed)


def test_the_check_says_wrong_first_and_names_the_mistakes(executed):
    (printed,) = check_outputs(executed)
    assert_wrong_first_and_named(
        printed, "masked steps get weight", "wrong axis", "my_masked_softmax_np"
    )


def test_the_cells_below_use_the_reference(executed):
    demo = next(c for c in executed.cells if c.cell_type == "code" and "n_pad" in c.source)
    masked_lines = [line for line in output_text(demo).splitlines() if "mask   :" in line]
    assert len(masked_lines) == 2
    assert all("weight on padding 0.000" in line for line in masked_lines), masked_lines
