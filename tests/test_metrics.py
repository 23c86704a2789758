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


# --- grouped_roc_auc: the one ROC-AUC per group behind gauc, bootstrap_roc_auc, roc_auc_rows


def sklearn_per_group(y, s, g, counts=None):
    """(keys, auc) by the plain loop: roc_auc_score per group, NaN where a class is missing."""
    from sklearn.metrics import roc_auc_score

    counts = np.ones(len(y)) if counts is None else np.asarray(counts, dtype=float)
    keys = np.unique(g)
    auc = np.full(len(keys), np.nan)
    for k, key in enumerate(keys):
        rows = g == key
        w = counts[rows]
        if w[y[rows] == 1].sum() > 0 and w[y[rows] == 0].sum() > 0:
            auc[k] = roc_auc_score(y[rows], s[rows], sample_weight=w)
    return keys, auc


def random_groups(rng, n, kind):
    """Unsorted, non-contiguous group keys of several kinds (each takes a different path)."""
    code = rng.integers(0, 40, n)
    if kind == "small ints":  # dense ids: found by bincount, no sort
        return code
    if kind == "negative ints":
        return code - 17
    if kind == "sparse ints":  # ids spread over a million values: np.unique
        return rng.choice(10**6, 40, replace=False)[code]
    return np.array([f"user-{c}" for c in code])  # strings


@pytest.mark.parametrize("kind", ["small ints", "negative ints", "sparse ints", "strings"])
@pytest.mark.parametrize("weighting", ["none", "integer counts", "fractional"])
def test_grouped_roc_auc_equals_the_sklearn_loop(kind, weighting):
    from helpers.metrics import grouped_roc_auc

    rng = np.random.default_rng(len(kind) + len(weighting))
    n = 1500
    g = random_groups(rng, n, kind)
    y = (rng.random(n) < 0.3).astype(int)
    s = np.round(rng.normal(size=n) + y, 1)  # rounded: ties inside groups
    y[g == g[0]] = 1  # one group with positives only -> NaN
    counts = {
        "none": None,
        "integer counts": rng.integers(0, 4, n),  # zeros leave rows out
        "fractional": rng.random(n) * 3,
    }[weighting]
    keys, auc = grouped_roc_auc(y, s, g, counts)
    expected_keys, expected = sklearn_per_group(y, s, g, counts)
    assert keys.tolist() == expected_keys.tolist()
    assert np.isnan(auc).tolist() == np.isnan(expected).tolist()
    assert np.isnan(auc[keys == g[0]]).all()
    np.testing.assert_allclose(auc, expected, rtol=0, atol=1e-12)  # NaN where NaN


def test_grouped_roc_auc_counts_are_copies_of_rows():
    from helpers.metrics import grouped_roc_auc

    rng = np.random.default_rng(5)
    n = 600
    g, y = rng.integers(0, 12, n), (rng.random(n) < 0.4).astype(int)
    s, counts = np.round(rng.random(n), 1), rng.integers(0, 5, n)
    copies = np.repeat(np.arange(n), counts)  # every row written out counts times
    _, weighted = grouped_roc_auc(y, s, g, counts)
    _, repeated = grouped_roc_auc(y[copies], s[copies], g[copies])
    np.testing.assert_array_equal(weighted, repeated)  # integer counts: exact


def test_grouped_roc_auc_order_of_rows_does_not_matter():
    """Rows already ordered by (group, score) skip the sort; any order gives the same."""
    from helpers.metrics import grouped_roc_auc

    rng = np.random.default_rng(6)
    g = np.repeat(np.arange(30), 50)
    y = (rng.random(1500) < 0.3).astype(int)
    s = np.round(rng.random(1500), 2)
    ordered = np.lexsort((s, g))
    shuffled = rng.permutation(1500)
    _, a = grouped_roc_auc(y[ordered], s[ordered], g[ordered])
    _, b = grouped_roc_auc(y[shuffled], s[shuffled], g[shuffled])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, sklearn_per_group(y, s, g)[1], rtol=0, atol=1e-12)


def test_grouped_roc_auc_more_groups_than_16_bits():
    """70,000 groups of one positive and one negative: AUC 1, 1/2 or 0 by their order."""
    from helpers.metrics import grouped_roc_auc

    rng = np.random.default_rng(7)
    G = 70_000
    g = rng.permutation(np.repeat(np.arange(G) * 3, 2))  # sparse-ish ids, shuffled rows
    y = np.zeros(2 * G, dtype=int)
    first_row = np.unique(g, return_index=True)[1]
    y[first_row] = 1
    s = rng.integers(0, 3, 2 * G).astype(float)
    keys, auc = grouped_roc_auc(y, s, g)
    pos = np.zeros(G)
    neg = np.zeros(G)
    np.add.at(pos, g // 3, np.where(y == 1, s, 0))
    np.add.at(neg, g // 3, np.where(y == 0, s, 0))
    expected = np.where(pos > neg, 1.0, np.where(pos == neg, 0.5, 0.0))
    np.testing.assert_array_equal(keys, np.arange(G) * 3)
    np.testing.assert_array_equal(auc, expected)


def test_grouped_roc_auc_nan_for_groups_without_both_classes():
    from helpers.metrics import grouped_roc_auc

    y = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=bool)  # bools are 0/1 labels too
    s = np.array([0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    g = np.array([5, 5, 2, 2, 2, 9, 7, 7])
    counts = np.array([1, 1, 1, 1, 1, 1, 0, 2])  # group 7's positive counted zero times
    keys, auc = grouped_roc_auc(y, s, g, counts)
    assert keys.tolist() == [2, 5, 7, 9]
    assert auc[:2].tolist() == [0.0, 1.0]  # 2: both positives below the negative; 5: above
    assert np.isnan(auc[2:]).all()  # 7: no positive counted; 9: negatives only
    keys, auc = grouped_roc_auc([], [], [])
    assert keys.shape == auc.shape == (0,)


@pytest.mark.parametrize(
    "args, words",
    [
        (([[1, 0]], [[0.1, 0.2]], [[1, 1]]), "labels must be one-dimensional"),
        (([1, 0], [0.1, 0.2], [[1, 1]]), "groups must be one-dimensional"),
        (([1, 0], [0.1, 0.2, 0.3], [1, 1]), "same length, got 2, 3 and 2"),
        (([1, 0], [0.1, 0.2], [1, 1, 2]), "same length"),
        (([1, 0.5], [0.1, 0.2], [1, 1]), "labels must be 0 or 1"),
        ((["yes", "no"], [0.1, 0.2], [1, 1]), "labels must be 0 or 1"),
        (([1, 0], [np.inf, 0.2], [1, 1]), "scores must be finite"),
        (([1, 0], [0.1, 0.2], [1, 1], [1, 1, 1]), "counts must have length 2"),
        (([1, 0], [0.1, 0.2], [1, 1], [1, -1]), "non-negative"),
        (([1, 0], [0.1, 0.2], [1, 1], [1, np.nan]), "finite and non-negative"),
        (([1, 0], [0.1, 0.2], [1, 1], [[1, 1]]), "counts must be one-dimensional"),
    ],
)
def test_grouped_roc_auc_bad_input(args, words):
    from helpers.metrics import grouped_roc_auc

    with pytest.raises(ValueError, match=words):
        grouped_roc_auc(*args)
