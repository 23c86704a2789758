"""Notebooks 07 and 08 run end to end with a typical wrong answer: Run All reaches the end.

07: ``attention_np`` without the 1/sqrt(d) scale and with NaN for a query that may attend
to nothing (a padding step). 08: ``rfm_at_cutoff`` whose frequency counts the first
purchase too. Each check cell must print ✗ first with the named mistakes, keep the
answer under ``my_...``, and the cells below must go on with the reference.
"""

import pytest

from tests.test_notebooks import output_text
from tests.wrong_answers import (
    assert_reached_the_end,
    assert_wrong_first_and_named,
    check_outputs,
    run_with_answers,
)

UNSCALED_NAN_FOR_PADDING = """
scores = q @ np.swapaxes(k, -1, -2)
if mask is not None:
    scores = np.where(mask, scores, -np.inf)
weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
weights = weights / weights.sum(axis=-1, keepdims=True)
return weights @ v, weights
"""

FREQUENCY_WITH_THE_FIRST_PURCHASE = """
before = purchases[purchases["date"] < cutoff]
days = before.groupby(["customer_id", "date"], as_index=False)["dollar_value"].sum()
per_customer = days.groupby("customer_id")
rfm = pd.DataFrame({
    "recency_weeks": (cutoff - per_customer["date"].max()).dt.days / 7,
    "frequency": per_customer.size(),
    "monetary": per_customer["dollar_value"].mean(),
    "age_weeks": (cutoff - per_customer["date"].min()).dt.days / 7,
})
return rfm.reindex(customers)
"""


@pytest.fixture(scope="module")
def executed_07():
    return run_with_answers("07_transformers_and_large_models", {0: UNSCALED_NAN_FOR_PADDING})


@pytest.fixture(scope="module")
def executed_08():
    return run_with_answers("08_real_data_churn", {0: FREQUENCY_WITH_THE_FIRST_PURCHASE})


def test_07_run_all_reaches_the_end(executed_07):
    assert_reached_the_end(executed_07)


def test_07_the_check_says_wrong_first_and_names_the_mistakes(executed_07):
    (printed,) = check_outputs(executed_07)
    assert_wrong_first_and_named(
        printed, "not divided by sqrt(d)", "NaN weights", "my_attention_np"
    )


def test_07_the_cells_below_use_the_reference(executed_07):
    demo = next(
        c for c in executed_07.cells if c.cell_type == "code" and "weights_demo" in c.source
    )
    printed = output_text(demo)
    assert "rows of real events sum to [1. 1. 1. 1. 0. 0.]" in printed, printed
    assert "nan" not in printed.lower()


def test_08_run_all_reaches_the_end(executed_08):
    assert_reached_the_end(executed_08)


def test_08_the_check_says_wrong_first_and_names_the_mistake(executed_08):
    (printed,) = check_outputs(executed_08)
    assert_wrong_first_and_named(
        printed, "frequency counts every purchase day", "my_rfm_at_cutoff"
    )


def test_08_the_cells_below_use_the_reference(executed_08):
    (printed,) = check_outputs(executed_08)
    assert "on all of CDNOW, equal to the reference: True" in printed
