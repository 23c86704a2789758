"""Tests of the simulator, encoding, padding and the user split.

Modules: helpers.data, helpers.sequences.
"""

import numpy as np
import pytest

from helpers import data as D
from helpers.sequences import BEHAVIOR_ID, N_FEATURES, encode_features, pad


@pytest.fixture(scope="module")
def sim():
    return D.make_dataset(20_000, seed=7)


def test_contract_fields_shapes_and_dtypes(sim):
    n, max_len = len(sim), D.MAX_LEN
    for name in ("item_ids", "behavior_ids", "category_ids"):
        array = getattr(sim, name)
        assert array.shape == (n, max_len) and array.dtype == np.int32, name
    assert sim.features.shape == (n, max_len, N_FEATURES) and sim.features.dtype == np.float32
    assert sim.labels.shape == (n,) and set(np.unique(sim.labels)) == {0, 1}
    assert sim.true_prob.shape == (n,)
    assert sim.lengths.min() >= D.MIN_LEN and sim.lengths.max() <= D.MAX_LEN


def test_padding_is_post_and_consistent(sim):
    real = np.arange(sim.max_len)[None, :] < sim.lengths[:, None]
    for name in ("item_ids", "behavior_ids", "category_ids"):
        array = getattr(sim, name)
        assert (array[real] > 0).all() and (array[~real] == 0).all(), name
    assert (sim.features[~real] == 0).all()
    assert (sim.features[real][:, :5].sum(axis=1) == 1).all()  # exactly one behavior flag
    assert sim.item_ids.max() <= D.N_ITEMS


def test_same_seed_same_bytes_different_seed_different_data():
    a, b, c = D.make_dataset(500, seed=1), D.make_dataset(500, seed=1), D.make_dataset(500, seed=2)
    for name in ("item_ids", "behavior_ids", "features", "labels", "true_prob", "user_ids"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert a.behavior_ids.tobytes() != c.behavior_ids.tobytes()


def test_true_prob_is_the_documented_function_of_the_observed_sequence(sim):
    np.testing.assert_array_equal(
        sim.true_prob, D.purchase_probability(sim.behavior_ids, sim.lengths)
    )


def test_labels_are_drawn_from_true_prob_per_bin(sim):
    # per decile of true_prob, the number of positives must match sum(p) within
    # 4 binomial standard deviations (a threshold or a shuffled draw fails this)
    edges = np.quantile(sim.true_prob, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, sim.true_prob, side="right") - 1, 0, 9)
    for b in range(10):
        p = sim.true_prob[bins == b]
        observed = sim.labels[bins == b].sum()
        z = (observed - p.sum()) / np.sqrt((p * (1 - p)).sum())
        assert abs(z) < 4, (b, observed, p.sum())


def test_positive_rate_is_a_few_percent(sim):
    assert 0.02 <= sim.positive_rate <= 0.08


def test_bayes_auc_is_roc_auc_of_true_prob(sim):
    from sklearn.metrics import roc_auc_score

    assert sim.bayes_roc_auc == pytest.approx(roc_auc_score(sim.labels, sim.true_prob))
    assert 0.7 < sim.bayes_roc_auc < 0.95


def behaviors(*names, max_len=10):
    ids = [BEHAVIOR_ID[n] for n in names]
    return pad([ids], max_len), np.array([len(ids)])


def test_order_changes_the_probability():
    # same counts, different order: fav → cart beats cart → fav
    fav_then_cart = D.purchase_probability(*behaviors("pv", "fav", "pv", "cart", "pv"))
    cart_then_fav = D.purchase_probability(*behaviors("pv", "cart", "pv", "fav", "pv"))
    assert fav_then_cart[0] > cart_then_fav[0]
    # a recent cart beats an old one
    recent = D.purchase_probability(*behaviors("pv", "pv", "pv", "pv", "cart"))
    old = D.purchase_probability(*behaviors("cart", "pv", "pv", "pv", "pv"))
    assert recent[0] > old[0]


def test_first_event_far_back_still_matters():
    with_search = D.purchase_probability(*behaviors("search", *["pv"] * 39, max_len=40))
    without = D.purchase_probability(*behaviors("pv", *["pv"] * 39, max_len=40))
    assert with_search[0] / without[0] > 2


def test_logit_terms_on_a_hand_made_sequence():
    terms = D.purchase_terms(*behaviors("search", "pv", "fav", "cart", "pv"))
    assert terms["first_is_search"][0] == 1
    assert terms["fav_then_cart"][0] == 1
    assert terms["cart_recency"][0] == pytest.approx(np.exp(-1 / D.CART_RECENCY_SCALE))
    assert terms["log_page_views"][0] == pytest.approx(np.log(3))


def test_split_by_user_has_no_leakage_and_covers_everything(sim):
    parts = D.split_by_user(sim, (0.6, 0.2, 0.2), seed=0)
    users = [set(part.user_ids.tolist()) for part in parts]
    assert not (users[0] & users[1]) and not (users[0] & users[2]) and not (users[1] & users[2])
    assert sum(len(part) for part in parts) == len(sim)
    assert abs(len(parts[0]) / len(sim) - 0.6) < 0.03


def test_split_rejects_bad_fractions(sim):
    with pytest.raises(ValueError, match="sum to 1"):
        D.split_by_user(sim, (0.5, 0.2))


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_sequences": 0}, "n_sequences"), ({"min_len": 10, "max_len": 5}, "min_len"),
     ({"n_items": 10, "n_categories": 50}, "n_items")],
)  # fmt: skip
def test_make_dataset_rejects_bad_arguments(kwargs, match):
    kwargs = {"n_sequences": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        D.make_dataset(**kwargs)


def test_pad_keeps_most_recent_events():
    np.testing.assert_array_equal(pad([[1, 2, 3, 4], [5]], 3), [[2, 3, 4], [5, 0, 0]])


def test_encode_features_columns():
    behavior = np.array([[BEHAVIOR_ID["pv"], BEHAVIOR_ID["cart"], 0]])
    gaps = np.array([[0.0, np.e**10 - 1, 0.0]])
    items = np.array([[7, 7, 0]])
    categories = np.array([[2, 2, 0]])
    features = encode_features(behavior, gaps, items, categories)
    np.testing.assert_allclose(features[0, 1], [0, 0, 0, 1, 0, 1.0, 1, 1], atol=1e-5)
    assert (features[0, 2] == 0).all()


def test_bayes_auc_needs_true_prob(sim):
    real_like = sim.subset(slice(0, 10))
    real_like.true_prob = None
    with pytest.raises(ValueError, match="simulated"):
        _ = real_like.bayes_roc_auc


# --- scoring a session while it runs: prefixes and their exact Bayes probability ---


@pytest.fixture(scope="module")
def big():
    return D.make_dataset(150_000, seed=11)


def test_length_probabilities_match_the_simulated_lengths(big):
    probs = D.length_probabilities()
    assert probs.sum() == pytest.approx(1.0) and probs[: D.MIN_LEN].sum() == 0
    counts = np.bincount(big.lengths, minlength=D.MAX_LEN + 1)
    sd = np.sqrt(len(big) * probs * (1 - probs)) + 1e-9
    assert (np.abs(counts - len(big) * probs) < 4 * sd + 1).all()


def test_prefix_lengths():
    np.testing.assert_array_equal(D.prefix_lengths([30, 4, 5, 40], 0.1), [3, 1, 1, 4])
    np.testing.assert_array_equal(D.prefix_lengths([8, 7], 0.25), [2, 2])
    np.testing.assert_array_equal(D.prefix_lengths([8, 7], 1.0), [8, 7])
    for bad in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            D.prefix_lengths([10], bad)


def test_whole_session_prefix_probability_is_true_prob(sim):
    np.testing.assert_allclose(
        D.prefix_purchase_probability(sim.behavior_ids, sim.lengths, 1.0), sim.true_prob
    )


@pytest.mark.parametrize("fraction", [0.25, 0.5])
def test_prefix_probability_is_the_mean_true_prob_of_sessions_with_that_prefix(big, fraction):
    # E[true_prob | prefix] = P(label | prefix): group simulated sessions by their exact
    # observed prefix and compare the group's mean true_prob (the simulator, no recursion)
    # with the computed value, within 4 standard errors
    prefix = D.take_prefix(big, fraction)
    rows = zip(prefix.lengths.tolist(), prefix.behavior_ids.tolist(), strict=True)
    keys = [(k, *row[:k]) for k, row in rows]
    groups = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    checked = 0
    for rows in groups.values():
        if len(rows) < 300:
            continue
        rows = np.array(rows)
        assert np.ptp(prefix.true_prob[rows]) < 1e-12  # one value per prefix
        sample = big.true_prob[rows]
        error = sample.std() / np.sqrt(len(rows))
        assert abs(sample.mean() - prefix.true_prob[rows[0]]) < 4 * error + 1e-4
        checked += 1
    assert checked >= 5
    difference = big.true_prob - prefix.true_prob  # overall: the tower property
    assert abs(difference.mean()) < 4 * difference.std() / np.sqrt(len(big))


def test_prefix_probability_depends_on_what_has_happened_so_far():
    # same prefix length and fraction: a fresh cart after a favorite beats page views only
    ids, _ = behaviors("pv", "fav", "cart", "pv", "pv", "pv", "pv", "pv", max_len=40)
    plain, _ = behaviors(*["pv"] * 8, max_len=40)
    both = np.concatenate([ids, plain])
    p = D.prefix_purchase_probability(both, np.array([3, 3]), 0.25)
    assert p[0] > 2 * p[1]


def test_take_prefix_cuts_and_repads(sim):
    part = sim.subset(slice(0, 500))
    cut = D.take_prefix(part, 0.5)
    np.testing.assert_array_equal(cut.lengths, D.prefix_lengths(part.lengths, 0.5))
    real = np.arange(part.max_len)[None, :] < cut.lengths[:, None]
    assert (cut.behavior_ids[real] == part.behavior_ids[real]).all()
    assert (cut.behavior_ids[~real] == 0).all() and (cut.item_ids[~real] == 0).all()
    assert (cut.features[~real] == 0).all()
    np.testing.assert_array_equal(cut.labels, part.labels)
    np.testing.assert_array_equal(
        cut.features,
        encode_features(cut.behavior_ids, cut.time_gaps, cut.item_ids, cut.category_ids),
    )
    real_log = part.subset(slice(None))
    real_log.true_prob = None
    assert D.take_prefix(real_log, 0.5).true_prob is None


def test_prefix_probability_rejects_impossible_prefixes(sim):
    with pytest.raises(ValueError, match="observed"):
        D.prefix_purchase_probability(sim.behavior_ids[:2], np.array([0, 3]), 0.5)


def test_take_prefix_with_one_fraction_per_session_matches_each_fraction(sim):
    part = sim.subset(slice(0, 400))
    fractions = np.where(np.arange(len(part)) % 2 == 0, 0.25, 0.75)
    mixed = D.take_prefix(part, fractions)
    for fraction in (0.25, 0.75):
        rows = fractions == fraction
        alone = D.take_prefix(part.subset(rows), fraction)
        np.testing.assert_array_equal(mixed.behavior_ids[rows], alone.behavior_ids)
        np.testing.assert_allclose(mixed.true_prob[rows], alone.true_prob)
