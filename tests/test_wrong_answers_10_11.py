"""A typical wrong answer in notebooks 10 and 11 never blocks "Run All".

Each test fills the question notebook's stubs with mistakes learners make, runs the
whole notebook, and checks that it reaches the end, that each check cell's output
starts with the ✗ line and names the mistake, and that the cells below continue
with the reference.
"""

import re

from tests.wrong_answers import assert_reached_the_end, check_outputs, run_with_answers

# notebook 10, exercise 1: softmax over the size-1 last axis of (B, T, 1) scores, no mask
DIN_NO_MASK_WRONG_AXIS = """
keys = ops.convert_to_tensor(keys, "float32")
c = ops.broadcast_to(ops.expand_dims(ops.convert_to_tensor(query, "float32"), 1), ops.shape(keys))
scores = score_fn(ops.concatenate([keys, c, keys - c, keys * c], axis=-1))  # (B, T, 1)
weights = ops.softmax(scores, axis=-1) if use_softmax else scores
weights = ops.squeeze(weights, -1)
return ops.sum(keys * ops.expand_dims(weights, -1), axis=1), weights
"""

# notebook 10, exercise 2: a plain mean over users
GAUC_PLAIN_MEAN = """
labels, scores, groups = map(np.asarray, (labels, scores, groups))
aucs = [roc_auc_score(labels[groups == g], scores[groups == g]) for g in np.unique(groups)
        if 0 < labels[groups == g].sum() < (groups == g).sum()]
if not aucs:
    raise ValueError("no group has both classes")
return float(np.mean(aucs))
"""

# notebook 11: the correction in the wrong direction, no validation of r
RECALIBRATE_WRONG_WAY = """
q = np.asarray(probabilities, dtype=float)
return q / (q + (1 - q) * negative_keep_rate)
"""


def assert_failed_visibly(printed, pattern, reference):
    lines = printed.strip().splitlines()
    assert lines[0].startswith("✗"), f"the ✗ line must come first, got:\n{printed}"
    assert re.search(pattern, printed, re.I), f"the mistake is not named:\n{printed}"
    assert f"continue with the reference {reference}" in printed, printed
    assert "Traceback" not in printed, printed


def test_10_din_pooling_and_gauc_wrong():
    answers = {0: DIN_NO_MASK_WRONG_AXIS, 1: GAUC_PLAIN_MEAN}
    nb = run_with_answers("10_target_attention_ctr", answers)
    assert_reached_the_end(nb)
    din_check, gauc_check = check_outputs(nb)
    assert_failed_visibly(din_check, r"padding|size 1", "helpers.ctr.layers.din_pooling")
    assert_failed_visibly(gauc_check, r"plain mean over users", "helpers.metrics.gauc")


def test_11_recalibrate_wrong_way():
    nb = run_with_answers("11_ctr_training_and_serving", {0: RECALIBRATE_WRONG_WAY})
    assert_reached_the_end(nb)
    (check,) = check_outputs(nb)
    assert_failed_visibly(check, r"wrong way", "helpers.metrics.recalibrate")
    assert re.search(r"raise ValueError", check), check
