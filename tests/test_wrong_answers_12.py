"""Notebook 12 run end to end with a wrong in-batch softmax (the logQ correction with
the wrong sign): the check names the mistake first, the cells below continue with the
reference (their printed losses equal the solution's), and Run All reaches the end."""

import nbformat

from tests.test_notebooks import ROOT, output_text
from tests.wrong_answers import assert_reached_the_end, check_outputs, run_with_answers

NAME = "12_retrieval_negative_sampling"
WRONG_SIGN = """
logits = np.asarray(user_vectors, float) @ np.asarray(item_vectors, float).T
if log_q is not None:
    logits = logits + np.asarray(log_q, float)[None, :]   # wrong sign
logits = logits - logits.max(axis=1, keepdims=True)
return float(-np.mean(np.diag(logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)))))
"""


def _loss_comparison(nb):
    """Output of the cell that prints the exercise's loss beside the keras.ops one."""
    cells = [c for c in nb.cells if c.cell_type == "code" and 'print("NumPy' in c.source]
    assert len(cells) == 1
    return " ".join(output_text(cells[0]).split())  # streams may split lines differently


def test_notebook_12_reaches_the_end_with_the_wrong_sign_of_the_correction():
    nb = run_with_answers(NAME, {0: WRONG_SIGN})
    assert_reached_the_end(nb)
    (check,) = check_outputs(nb)
    assert check.lstrip().startswith("✗"), check
    assert "wrong sign" in check and "continue with the reference" in check
    solution = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", 4)
    assert _loss_comparison(nb) == _loss_comparison(solution)
