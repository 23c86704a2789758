"""helpers.metrics against independent computations (pairwise counting, odds algebra)."""

import numpy as np
import pytest

from helpers.metrics import gauc, recalibrate


def pairwise_auc(y, s):
    """ROC-AUC by counting ordered (positive, negative) pairs; ties count 1/2."""
    pos, neg = s[y == 1], s[y == 0]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size


def brute_gauc(y, s, g, w=None):
    w = np.ones(len(y)) if w is None else w
    num = den = 0.0
    for key in set(g.tolist()):
        rows = g == key
        if 0 < y[rows].sum() < rows.sum():
            num += w[rows].sum() * pairwise_auc(y[rows], s[rows])
            den += w[rows].sum()
    return num / den


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gauc_matches_pairwise_count(seed):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 30, 400)
    y = (rng.random(400) < 0.3).astype(int)
    s = np.round(y + rng.normal(size=400), 1)  # rounded: ties happen
    assert gauc(y, s, g) == pytest.approx(brute_gauc(y, s, g), abs=1e-12)
    w = rng.random(400)
    assert gauc(y, s, g, w) == pytest.approx(brute_gauc(y, s, g, w), abs=1e-12)


def test_gauc_string_groups_and_one_class_groups_skipped():
    y = np.array([1, 0, 1, 1, 0, 0, 1])
    s = np.array([0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    g = np.array(["a", "a", "b", "b", "b", "c", "d"])  # c and d: one class
    # a: AUC 1 (2 impressions); b: positives 0.2, 0.3 vs negative 0.4 -> 0 (3 impressions)
    assert gauc(y, s, g) == pytest.approx((2 * 1.0 + 3 * 0.0) / 5)


def test_gauc_user_offsets_do_not_matter_but_pooled_auc_does():
    # within-user order identical, per-user score offsets huge: GAUC unchanged
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(50), 6)
    y = (rng.random(300) < 0.4).astype(int)
    s = y + rng.normal(size=300)
    shifted = s + 10 * rng.normal(size=50)[g]
    assert gauc(y, shifted, g) == pytest.approx(gauc(y, s, g))


@pytest.mark.parametrize(
    "args, words",
    [
        (([1, 1, 0], [0.1, 0.2, 0.3], [1, 1, 2]), "no group has both"),
        (([1, 0], [0.1, 0.2, 0.3], [1, 1, 2]), "same length"),
        (([[1, 0]], [[0.1, 0.2]], [[1, 1]]), "one-dimensional"),
        (([2, 0], [0.1, 0.2], [1, 1]), "0 or 1"),
    ],
)
def test_gauc_bad_input(args, words):
    with pytest.raises(ValueError, match=words):
        gauc(*args)


def test_recalibrate_inverts_negative_downsampling():
    p = np.linspace(0.01, 0.99, 50)
    for r in (0.05, 0.3, 1.0):
        # odds after keeping negatives at rate r: p / (r (1 - p)); q from those odds
        q = (p / (r * (1 - p))) / (1 + p / (r * (1 - p)))
        assert recalibrate(q, r) == pytest.approx(p, rel=1e-12)
    assert recalibrate(p, 1.0) == pytest.approx(p)


def test_recalibrate_keeps_the_order_and_refuses_bad_rates():
    q = np.array([0.1, 0.5, 0.2])
    assert np.argsort(recalibrate(q, 0.2)).tolist() == np.argsort(q).tolist()
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="negative_keep_rate"):
            recalibrate(q, bad)
    with pytest.raises(ValueError, match="probabilities"):
        recalibrate([1.2], 0.5)


def test_question_bank_numeric_answers_recomputed():
    import json
    from pathlib import Path

    bank = Path(__file__).resolve().parent.parent / "helpers" / "question_bank"
    quiz = {}
    for name in ("10_target_attention_ctr", "11_ctr_training_and_serving"):
        doc = json.loads((bank / f"{name}.json").read_text(encoding="utf-8"))
        quiz.update({item["id"]: item for item in doc["quiz"]})
    y = np.array([1, 0, 0, 1, 0, 1, 0, 0, 0])
    s = np.array([0.9, 0.5, 0.7, 0.2, 0.6, 0.8, 0.1, 0.3, 0.4])
    g = np.array(["A"] * 3 + ["B"] * 4 + ["C"] * 2)
    assert quiz["10-q1"]["answer"] == pytest.approx(brute_gauc(y, s, g), abs=1e-12)
    assert quiz["10-q1"]["answer"] == pytest.approx(gauc(y, s, g), abs=1e-12)
    assert quiz["10-q3"]["answer"] == 1000 / 50
    assert quiz["11-q1"]["answer"] == pytest.approx(float(recalibrate([0.5], 0.1)[0]))
    assert quiz["11-q2"]["answer"] == pytest.approx(0.05 * 0.2)


def sklearn_loop_gauc(y, s, g):
    """The straightforward loop: roc_auc_score per group with both classes."""
    from sklearn.metrics import roc_auc_score

    num = den = 0.0
    for key in np.unique(g):
        rows = g == key
        if 0 < y[rows].sum() < rows.sum():
            num += rows.sum() * roc_auc_score(y[rows], s[rows])
            den += rows.sum()
    return num / den


@pytest.mark.parametrize("seed", [0, 1])
def test_gauc_equals_the_per_group_sklearn_loop_on_many_unsorted_groups(seed):
    rng = np.random.default_rng(seed)
    n = 2400
    g = rng.permutation(np.repeat(rng.choice(10**6, 400, replace=False), 6))  # not contiguous
    y = (rng.random(n) < 0.25).astype(int)
    s = np.round(rng.normal(size=n) + y, 2)  # ties inside groups
    assert gauc(y, s, g) == pytest.approx(sklearn_loop_gauc(y, s, g), abs=1e-12)


def test_gauc_refuses_non_finite_scores():
    with pytest.raises(ValueError, match="finite"):
        gauc([1, 0], [np.nan, 0.2], [1, 1])
