"""Tests of helpers.challenges: the perturbations notebook 01 scores models on."""

import numpy as np
import pytest

from helpers import challenges as C
from helpers.data import make_dataset, purchase_probability
from helpers.models import count_features
from helpers.sequences import BEHAVIOR_ID, encode_features


@pytest.fixture(scope="module")
def sim():
    return make_dataset(600, seed=3)


def _events(data, row, length=None):
    """The real events of one row as (item, category, behavior) tuples."""
    n = data.lengths[row] if length is None else length
    return list(
        zip(
            data.item_ids[row, :n].tolist(),
            data.category_ids[row, :n].tolist(),
            data.behavior_ids[row, :n].tolist(),
            strict=True,
        )
    )


def _assert_valid(data):
    real = np.arange(data.max_len)[None, :] < data.lengths[:, None]
    for name in ("item_ids", "category_ids", "behavior_ids"):
        array = getattr(data, name)
        assert (array[real] > 0).all() and (array[~real] == 0).all(), name
    assert (data.time_gaps[:, 0] == 0).all()
    expected = encode_features(data.behavior_ids, data.time_gaps, data.item_ids, data.category_ids)
    np.testing.assert_array_equal(data.features, expected)


def test_shuffle_moves_events_keeps_multiset_and_counts(sim):
    shuffled = C.shuffle_events(sim, seed=1)
    _assert_valid(shuffled)
    np.testing.assert_array_equal(shuffled.lengths, sim.lengths)
    np.testing.assert_array_equal(shuffled.labels, sim.labels)
    for row in range(50):
        assert sorted(_events(shuffled, row)) == sorted(_events(sim, row))
    assert not np.array_equal(shuffled.behavior_ids, sim.behavior_ids), "nothing moved"
    np.testing.assert_array_equal(shuffled.time_gaps, sim.time_gaps)  # the rhythm stays
    # order-blind features see no difference at all
    np.testing.assert_array_equal(count_features(shuffled), count_features(sim))
    # same seed, same order; different seed, different order
    np.testing.assert_array_equal(C.shuffle_events(sim, 1).item_ids, shuffled.item_ids)
    assert not np.array_equal(C.shuffle_events(sim, 2).behavior_ids, shuffled.behavior_ids)


def test_shuffle_changes_the_true_probability_somewhere(sim):
    shuffled = C.shuffle_events(sim, seed=1)
    changed = purchase_probability(shuffled.behavior_ids, shuffled.lengths) != sim.true_prob
    assert changed.mean() > 0.2


def test_keep_last_keeps_the_last_k_events(sim):
    for k in (1, 5, 40):
        cut = C.keep_last(sim, k)
        _assert_valid(cut)
        np.testing.assert_array_equal(cut.lengths, np.minimum(sim.lengths, k))
        for row in range(50):
            assert _events(cut, row) == _events(sim, row)[-k:]
    full = C.keep_last(sim, sim.max_len)
    np.testing.assert_array_equal(full.behavior_ids, sim.behavior_ids)
    with pytest.raises(ValueError, match="positive int"):
        C.keep_last(sim, 0)


def test_leak_appends_a_buy_to_positive_sessions_only(sim):
    leaky = C.leak_target_event(sim)
    _assert_valid(leaky)
    assert leaky.max_len == sim.max_len + 1
    np.testing.assert_array_equal(leaky.lengths, sim.lengths + sim.labels)
    rows = np.arange(len(sim))
    last = leaky.behavior_ids[rows, leaky.lengths - 1]
    assert (last[sim.labels == 1] == BEHAVIOR_ID["buy"]).all()
    negative = sim.labels == 0
    np.testing.assert_array_equal(
        leaky.behavior_ids[negative, : sim.max_len], sim.behavior_ids[negative]
    )
    pos = np.flatnonzero(sim.labels)[0]
    assert _events(leaky, pos)[:-1] == _events(sim, pos)
    assert leaky.item_ids[pos, sim.lengths[pos]] == sim.item_ids[pos, sim.lengths[pos] - 1]


def test_shifted_labels_default_reproduces_the_simulator(sim):
    labels, prob = C.shifted_labels(sim, seed=5)
    np.testing.assert_allclose(prob, sim.true_prob)
    again, _ = C.shifted_labels(sim, seed=5)
    np.testing.assert_array_equal(labels, again)
    _, no_search = C.shifted_labels(sim, {"first_is_search": 0.0})
    starts_with_search = sim.behavior_ids[:, 0] == BEHAVIOR_ID["search"]
    assert (no_search[starts_with_search] < sim.true_prob[starts_with_search]).all()
    np.testing.assert_allclose(no_search[~starts_with_search], sim.true_prob[~starts_with_search])
    with pytest.raises(ValueError, match="unknown logit terms"):
        C.shifted_labels(sim, {"nope": 1.0})


def test_without_mask_agrees_on_full_sessions_and_differs_with_padding():
    from helpers.models import build_lstm_attention_model, build_lstm_last_state_model

    rng = np.random.default_rng(0)
    full = {
        "item_ids": rng.integers(1, 1001, (4, 12)).astype("int32"),
        "behavior_ids": rng.integers(1, 6, (4, 12)).astype("int32"),
    }
    padded = {k: np.pad(v, ((0, 0), (0, 20))) for k, v in full.items()}
    for build in (build_lstm_attention_model, build_lstm_last_state_model):
        model = build()
        unmasked = C.without_mask(model)
        assert unmasked.count_params() == model.count_params()
        p_full = model.predict(full, verbose=0)
        np.testing.assert_allclose(unmasked.predict(full, verbose=0), p_full, atol=1e-6)
        np.testing.assert_allclose(model.predict(padded, verbose=0), p_full, atol=1e-6)
        gap = np.abs(unmasked.predict(padded, verbose=0) - p_full).max()
        assert gap > 1e-4, f"{model.name}: the unmasked copy ignored padding"


def test_length_buckets_cover_every_session_once_trimmed_to_the_longest(sim):
    buckets = C.length_buckets(sim, batch_size=64, seed=0)
    assert len(buckets) == -(-len(sim) // 64)
    seen = []
    for index in range(len(buckets)):
        x, y = buckets[index]
        width = x["item_ids"].shape[1]
        # rows of this batch, found by their labels and ids (each row is unique in sim)
        rows = [
            int(
                np.flatnonzero(
                    (sim.item_ids[:, :width] == ids).all(axis=1) & (sim.lengths <= width)
                )[0]
            )
            for ids in x["item_ids"]
        ]
        assert width == sim.lengths[rows].max()
        assert x["behavior_ids"].shape == x["item_ids"].shape
        np.testing.assert_array_equal(y, sim.labels[rows].astype(np.float32))
        seen.extend(rows)
    assert sorted(seen) == list(range(len(sim)))


def test_length_buckets_batches_similar_lengths_and_reshuffle_per_epoch(sim):
    buckets = C.length_buckets(sim, batch_size=100, seed=1)
    spreads = []
    for index in range(len(buckets)):
        x, _ = buckets[index]
        lengths = (x["behavior_ids"] > 0).sum(axis=1)
        spreads.append(lengths.max() - lengths.min())
    random_batch = sim.lengths[np.random.default_rng(0).permutation(len(sim))[:100]]
    assert max(spreads) < random_batch.max() - random_batch.min()
    first = [buckets[i][0]["item_ids"].shape[1] for i in range(len(buckets))]
    buckets.on_epoch_end()
    second = [buckets[i][0]["item_ids"].shape[1] for i in range(len(buckets))]
    assert sorted(first) == sorted(second) and first != second
    again = C.length_buckets(sim, batch_size=100, seed=1)
    assert [again[i][0]["item_ids"].shape[1] for i in range(len(again))] == first


def test_length_buckets_features(sim):
    x, y = C.length_buckets(sim, batch_size=50, x="features")[0]
    assert x.ndim == 3 and x.shape[0] == len(y) and x.shape[2] == sim.features.shape[2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"x": "floats"}, "x must be"), ({"batch_size": 0}, "batch_size must be")],
)
def test_length_buckets_rejects_bad_arguments(sim, kwargs, message):
    with pytest.raises(ValueError, match=message):
        C.length_buckets(sim, **kwargs)
