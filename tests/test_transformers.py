"""Tests for helpers.transformers: BST classifier, SASRec, next-item data, ranking metrics."""

import re

import keras
import numpy as np
import pytest
from keras import ops

from helpers import transformers as tr
from helpers.data import make_dataset
from helpers.models import compile_classifier


@pytest.fixture(autouse=True)
def seed():
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="module")
def small_data():
    return make_dataset(120, seed=3)


def pre_padded(array, lengths, width):
    """The same sequences with the padding moved to the front, ``width`` steps wide."""
    out = np.zeros((len(array), width), dtype=array.dtype)
    for row, n in enumerate(lengths):
        out[row, width - n :] = array[row, :n]
    return out


def bst_inputs(data, with_gaps):
    inputs = data.inputs()
    if with_gaps:
        inputs["time_gaps"] = data.time_gaps
    return inputs


# ---- BST classifier ------------------------------------------------------------------


def test_time_gap_buckets_by_hand():
    # gaps since the previous event: 0, 1, 2 s, then padding. Seconds to the last event:
    # 3, 2, 0, 0 -> floor(log2(1 + s)) = 2, 1, 0, 0; a 1000 s gap with 4 buckets clips to 3.
    gaps = np.array([[0.0, 1.0, 2.0, 0.0], [0.0, 1000.0, 0.0, 0.0]], dtype="float32")
    ids = ops.convert_to_numpy(tr.time_gap_bucket_ids(gaps, 4))
    assert ids.tolist() == [[2, 1, 0, 0], [3, 0, 0, 0]]



def test_bst_shapes_and_compile():
    model = tr.build_bst_classifier()
    assert set(model.input) == {"item_ids", "behavior_ids"}
    assert tuple(model.output.shape) == (None, 1)
    assert model.loss == "binary_crossentropy"
    names = {m["config"]["name"] for m in model.get_compile_config()["metrics"]}
    assert names == {"roc_auc", "pr_auc"}


@pytest.mark.parametrize("options", [{}, {"pooling": "attention"}, {"time_gap_buckets": 12}])
def test_bst_padding_never_changes_a_prediction(small_data, options):
    model = tr.build_bst_classifier(**options)
    inputs = bst_inputs(small_data, "time_gap_buckets" in options)
    expected = model.predict(inputs, verbose=0)
    assert expected.shape == (len(small_data), 1)
    post = {k: np.pad(v, [(0, 0), (0, 7)]) for k, v in inputs.items()}
    pre = {k: pre_padded(v, small_data.lengths, 45) for k, v in inputs.items()}
    np.testing.assert_allclose(model.predict(post, verbose=0), expected, atol=1e-6)
    np.testing.assert_allclose(model.predict(pre, verbose=0), expected, atol=1e-6)


def test_bst_sees_order(small_data):
    # reversing the real events of each session changes predictions: positions are used
    model = tr.build_bst_classifier()
    inputs = small_data.inputs()
    reversed_inputs = {k: v.copy() for k, v in inputs.items()}
    for row, n in enumerate(small_data.lengths):
        for v in reversed_inputs.values():
            v[row, :n] = v[row, :n][::-1]
    change = np.abs(model.predict(inputs, verbose=0) - model.predict(reversed_inputs, verbose=0))
    assert change.max() > 1e-4


@pytest.mark.parametrize("from_end", [False, True])
def test_event_positions_count_real_events_only(from_end):
    ids = np.array([[5, 6, 7, 0, 0], [0, 0, 5, 6, 7], [4, 0, 0, 0, 0]], dtype="int32")
    positions = ops.convert_to_numpy(tr.event_positions(ids, max_len=2, from_end=from_end))
    real = [0, 1, 2] if not from_end else [2, 1, 0]
    clipped = np.minimum(real, 1)  # max_len=2: positions >= 1 share the last one
    np.testing.assert_array_equal(positions[0, :3], clipped)
    np.testing.assert_array_equal(positions[1, 2:], clipped)
    assert positions[2, 0] == 0 and (positions[ids == 0] == 0).all()


# ---- SASRec ---------------------------------------------------------------------------

ITEMS = np.array([[3, 9, 4, 7, 2, 8, 0, 0], [5, 5, 1, 6, 0, 0, 0, 0]], dtype="int32")


def logits(model, ids):
    return ops.convert_to_numpy(model(ids, training=False))


def test_sasrec_shapes_and_loss_ignores_padding():
    model = tr.build_sasrec_model(n_items=12, max_len=8, dim=8, num_heads=2)
    inputs, targets = tr.next_item_pairs(ITEMS)
    predicted = logits(model, inputs)  # a plain array: no Keras mask attached
    assert predicted.shape == (2, 7, 12)
    # cross-entropy averaged over real targets only (ignore_class=0), computed by hand
    log_probs = predicted - np.log(np.exp(predicted).sum(axis=-1, keepdims=True))
    real = targets > 0
    expected = -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0][real].mean()
    assert float(model.loss(targets, predicted)) == pytest.approx(expected, rel=1e-5)


def test_tied_output_reuses_the_item_table():
    tied = tr.build_sasrec_model(n_items=12, max_len=8, dim=8)
    untied = tr.build_sasrec_model(n_items=12, max_len=8, dim=8, tie_weights=False)
    assert untied.count_params() - tied.count_params() == 12 * 8
    table = tied.get_layer("item_embedding").embeddings
    hidden = np.random.default_rng(0).normal(size=(1, 3, 8)).astype("float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(tied.get_layer("item_embedding")(hidden, reverse=True)),
        hidden @ ops.convert_to_numpy(table).T,
        atol=1e-5,
    )


def test_causal_model_cannot_see_the_future():
    model = tr.build_sasrec_model(n_items=12, max_len=8, dim=8, num_heads=2)
    changed = ITEMS.copy()
    changed[0, 4] = 11  # a later item of the first sequence
    before, after = logits(model, ITEMS), logits(model, changed)
    np.testing.assert_allclose(after[0, :4], before[0, :4], atol=1e-6)
    assert np.abs(after[0, 4:6] - before[0, 4:6]).max() > 1e-4
    np.testing.assert_allclose(after[1], before[1], atol=1e-6)  # other rows untouched


def test_bidirectional_model_sees_the_future():
    model = tr.build_sasrec_model(n_items=12, max_len=8, causal=False, dim=8, num_heads=2)
    changed = ITEMS.copy()
    changed[0, 4] = 11
    assert np.abs(logits(model, changed)[0, :4] - logits(model, ITEMS)[0, :4]).max() > 1e-4


@pytest.mark.parametrize("causal", [True, False])
def test_sasrec_padding_never_changes_real_positions(causal):
    model = tr.build_sasrec_model(n_items=12, max_len=8, causal=causal, dim=8, num_heads=2)
    padded = np.pad(ITEMS, [(0, 0), (0, 5)])
    real = ITEMS > 0
    np.testing.assert_allclose(
        logits(model, padded)[:, :8][real], logits(model, ITEMS)[real], atol=1e-6
    )


@pytest.mark.parametrize(
    "build", [lambda: tr.build_bst_classifier(), lambda: tr.build_sasrec_model(12, 8, dim=8)]
)
def test_save_load_round_trip(tmp_path, small_data, build):
    model = build()
    x = small_data.inputs() if len(model.inputs) == 2 else ITEMS
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tr.build_bst_classifier(dim=10, num_heads=3), "divisible"),
        (lambda: tr.build_bst_classifier(max_len=0), "max_len"),
        (lambda: tr.build_bst_classifier(pooling="max"), "pooling"),
        (lambda: tr.build_bst_classifier(positions="absolute"), "positions"),
        (lambda: tr.build_bst_classifier(dropout=1.0), "dropout"),
        (lambda: tr.build_sasrec_model(12, 8, dim=8, num_heads=3), "divisible"),
        (lambda: tr.build_sasrec_model(12, -1), "max_len"),
    ],
)
def test_bad_options(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---- next-item data -------------------------------------------------------------------


def test_next_item_pairs_and_hold_out_last():
    inputs, targets = tr.next_item_pairs(np.array([[1, 2, 3, 0], [4, 5, 6, 7]]))
    np.testing.assert_array_equal(inputs, [[1, 2, 0], [4, 5, 6]])
    np.testing.assert_array_equal(targets, [[2, 3, 0], [5, 6, 7]])
    history, last = tr.hold_out_last(np.array([[1, 2, 3, 0], [4, 5, 6, 7]]))
    np.testing.assert_array_equal(history, [[1, 2, 0, 0], [4, 5, 6, 0]])
    np.testing.assert_array_equal(last, [3, 7])


@pytest.mark.parametrize(
    "ids, match",
    [
        (np.array([1, 2, 3]), r"\(n, time\)"),
        (np.array([[1.0, 2.0]]), "int"),
        (np.array([[0, 2, 3]]), "post-padded"),
        (np.array([[1, -2, 3]]), ">= 0"),
    ],
)
def test_next_item_pairs_bad_input(ids, match):
    with pytest.raises(ValueError, match=match):
        tr.next_item_pairs(ids)


def test_hold_out_last_needs_two_events():
    with pytest.raises(ValueError, match="at least 2"):
        tr.hold_out_last(np.array([[1, 2], [3, 0]]))


def test_last_position_scores_reads_the_last_real_position():
    model = tr.build_sasrec_model(n_items=12, max_len=8, dim=8)
    history, _ = tr.hold_out_last(ITEMS)
    scores = tr.last_position_scores(model, history, batch_size=1)
    full = logits(model, history)
    lengths = (history > 0).sum(axis=1)
    for row in range(len(history)):
        np.testing.assert_allclose(scores[row, 1:], full[row, lengths[row] - 1, 1:], atol=1e-6)
    assert np.isneginf(scores[:, 0]).all()
    at = tr.last_position_scores(model, ITEMS, at=np.array([1, 0]))
    np.testing.assert_allclose(at[1, 1:], logits(model, ITEMS)[1, 0, 1:], atol=1e-6)
    with pytest.raises(ValueError, match="position"):
        tr.last_position_scores(model, ITEMS, at=np.array([6, 0]))


# ---- ranking metrics ------------------------------------------------------------------


def test_ranking_metrics_tiny_hand_case():
    scores = np.array([[-np.inf, 0.9, 0.1, 0.5], [-np.inf, 0.2, 0.7, 0.1]])
    targets = np.array([3, 2])  # ranks 2 and 1
    hand_ndcg = (1 / np.log2(3) + 1) / 2
    assert tr.ranking_metrics(scores, targets, k=1) == pytest.approx({"hr@1": 0.5, "ndcg@1": 0.5})
    assert tr.ranking_metrics(scores, targets, k=2) == pytest.approx(
        {"hr@2": 1.0, "ndcg@2": hand_ndcg}
    )


def test_ranking_metrics_match_ranks_computed_by_numpy():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(200, 51))
    targets = rng.integers(1, 51, 200)
    candidates = scores[:, 1:]
    ranks = 1 + (candidates > candidates[np.arange(200), targets - 1][:, None]).sum(axis=1)
    hit = ranks <= 10
    got = tr.ranking_metrics(scores, targets, k=10)
    assert got["hr@10"] == pytest.approx(hit.mean())
    assert got["ndcg@10"] == pytest.approx(np.mean(hit / np.log2(ranks + 1)))


def test_ranking_metrics_bad_input():
    with pytest.raises(ValueError, match="targets"):
        tr.ranking_metrics(np.zeros((3, 5)), np.array([1, 2]))
    with pytest.raises(ValueError, match="padding"):
        tr.ranking_metrics(np.zeros((2, 5)), np.array([0, 2]))


# ---- NumPy attention and the exercise checker ----------------------------------------


def test_numpy_attention_equals_keras_multi_head_attention_with_one_head():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    mask = np.broadcast_to(tr.causal_mask(5), (2, 5, 5))
    layer = keras.layers.MultiHeadAttention(num_heads=1, key_dim=4)
    expected = ops.convert_to_numpy(layer(x, x, attention_mask=mask))
    (wq, bq), (wk, bk), (wv, bv) = [
        (layer.get_weights()[i][:, 0], layer.get_weights()[i + 1][0]) for i in (0, 2, 4)
    ]
    out, weights = tr.scaled_dot_product_attention(x @ wq + bq, x @ wk + bk, x @ wv + bv, mask)
    wo, bo = layer.get_weights()[6][0], layer.get_weights()[7]
    np.testing.assert_allclose(out @ wo + bo, expected, atol=1e-5)
    assert (weights[:, np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0).all()


def test_causal_mask_is_lower_triangular():
    np.testing.assert_array_equal(tr.causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])


def test_checker_accepts_the_reference(capsys):
    assert tr.check_scaled_dot_product_attention(tr.scaled_dot_product_attention) is True
    assert "✓" in capsys.readouterr().out


def _softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def learner(scores=None, weights=None, mask_fill=None, output=None):
    """A learner's attention_np built from the reference steps, with one step replaced.

    ``scores(q, k)``, ``mask_fill(s, mask)`` (returns the masked scores), ``weights(s)`` and
    ``output(w, v, s)`` override the scaled scores, the masking, the softmax over the keys
    and ``w @ v``.
    """

    def answer(q, k, v, mask=None):
        q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
        s = (scores or (lambda q, k: q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])))(q, k)
        if mask is not None:
            s = (mask_fill or (lambda s, m: np.where(m, s, -1e30)))(s, mask)
        w = (weights or _stable_with_empty_rows)(s)
        return (output or (lambda w, v, s: w @ v))(w, v, s), w

    return answer


def _stable_with_empty_rows(s):
    # rows whose every score is -1e30 (no allowed key) get zero weights, as the reference does
    w = _softmax(s)
    return np.where((s <= -1e29).all(axis=-1, keepdims=True), 0.0, w)


def scaled(q, k):
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])


def no_max_shift(s):
    with np.errstate(all="ignore"):
        e = np.exp(s)
        return e / e.sum(axis=-1, keepdims=True)


def nan_for_empty_rows(q, k, v, mask=None):
    s = scaled(np.asarray(q, float), np.asarray(k, float))
    s = s if mask is None else np.where(mask, s, -np.inf)
    with np.errstate(all="ignore"):
        e = np.exp(s - s.max(axis=-1, keepdims=True))  # an all -inf row: -inf - -inf = NaN
        w = e / e.sum(axis=-1, keepdims=True)
    return w @ v, w


def mask_after_softmax(q, k, v, mask=None):
    w = _softmax(scaled(np.asarray(q, float), np.asarray(k, float)))
    w = w if mask is None else w * mask
    return w @ v, w


unscaled = learner(scores=lambda q, k: q @ np.swapaxes(k, -1, -2))  # quoted in INSTRUCTORS.md

WRONG_ANSWERS = {
    "no 1/sqrt(d)": (unscaled,
                     r"not divided by sqrt\(d\)"),
    "divided by d": (learner(scores=lambda q, k: q @ np.swapaxes(k, -1, -2) / q.shape[-1]),
                     r"divided by d, not by sqrt\(d\)"),
    "softmax over the queries": (learner(weights=lambda s: _softmax(s, axis=-2)), "wrong axis"),
    "softmax over the whole matrix": (
        learner(weights=lambda s: _softmax(s.reshape(len(s), -1)).reshape(s.shape)),
        "whole \\(Tq, Tk\\) matrix"),
    "raw scores as weights": (learner(weights=lambda s: s), "raw scores"),
    "K not transposed": (learner(scores=lambda q, k: q @ k / np.sqrt(q.shape[-1])),
                         "K is not transposed"),
    "k.T on a batch": (learner(scores=lambda q, k: q @ k.T / np.sqrt(q.shape[-1])),
                       "k.T reverses \\*all\\* axes"),
    "sum without keepdims": (learner(weights=lambda s: np.exp(s) / np.exp(s).sum(axis=-1)),
                             "keepdims=True"),
    "output from the scores": (learner(output=lambda w, v, s: s @ v), "output is not weights @ v"),
    "mask inverted": (learner(mask_fill=lambda s, m: np.where(m, -1e30, s)), "mask is inverted"),
    "mask after the softmax": (mask_after_softmax, "applied after the softmax"),
    "masked scores set to 0": (learner(mask_fill=lambda s, m: np.where(m, s, 0.0)),
                               "set to 0 instead of -inf"),
    "scores times the mask": (learner(mask_fill=lambda s, m: s * m), "set to 0 instead of -inf"),
    "mask ignored": (learner(mask_fill=lambda s, m: s), "mask is ignored"),
    "NaN for a query with no key": (nan_for_empty_rows, "gets NaN weights"),
    "-1e9 leaves an empty row uniform": (
        learner(mask_fill=lambda s, m: np.where(m, s, -1e9), weights=_softmax),
        "no allowed key .* gets weight on masked keys"),
    "no max shift": (learner(weights=no_max_shift, mask_fill=lambda s, m: np.where(m, s, -1e30)),
                     "subtract the row max"),
}


def test_the_learner_template_is_right(capsys):
    # the wrong answers below differ from this one in a single step each
    assert tr.check_scaled_dot_product_attention(learner()) is True


@pytest.mark.parametrize("mistake", WRONG_ANSWERS)
def test_checker_rejects_plausible_mistakes(mistake):
    answer, named = WRONG_ANSWERS[mistake]
    with pytest.raises(AssertionError, match=named) as failure:
        tr.check_scaled_dot_product_attention(answer)
    others = [m for other, (_, m) in WRONG_ANSWERS.items() if other != mistake]
    text = str(failure.value)
    wrongly_named = [m for m in others if re.search(m, text) and not re.search(m, named)]
    assert not wrongly_named, f"{mistake} is also reported as {wrongly_named}:\n{text}"


@pytest.mark.parametrize("mask_value", [-np.inf, -1e30])
def test_checker_accepts_correct_variants(mask_value, capsys):
    # -inf with a guarded max, or a huge negative number with empty rows zeroed: both right
    def answer(q, k, v, mask=None):
        s = scaled(np.asarray(q, float), np.asarray(k, float))
        if mask is not None:
            s = np.where(mask, s, mask_value)
        top = s.max(axis=-1, keepdims=True)
        e = np.exp(s - np.where(np.isfinite(top), top, 0.0))
        if mask is not None:
            e = e * mask
        w = e / np.maximum(e.sum(axis=-1, keepdims=True), 1e-300)
        return w @ v, w

    assert tr.check_scaled_dot_product_attention(answer) is True


def test_checker_says_not_attempted(capsys):
    def stub(q, k, v, mask=None):
        raise NotImplementedError

    assert tr.check_scaled_dot_product_attention(stub) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_fit_best_over_seeds_same_seed_same_run(small_data):
    # what is tested is the re-initialisation (weights copied in, Adam reset), whatever the
    # model: a small embedding model traces in a fraction of a Transformer's time
    def build():
        item_ids = keras.Input((None,), dtype="int32", name="item_ids")
        behavior_ids = keras.Input((None,), dtype="int32", name="behavior_ids")
        events = keras.layers.Add()([
            keras.layers.Embedding(small_data.n_items, 4, mask_zero=True)(item_ids),
            keras.layers.Embedding(6, 4, mask_zero=True)(behavior_ids),
        ])  # fmt: skip
        pooled = keras.layers.GlobalAveragePooling1D()(events)  # masked mean
        outputs = keras.layers.Dense(1, activation="sigmoid")(pooled)
        inputs = {"item_ids": item_ids, "behavior_ids": behavior_ids}
        return compile_classifier(keras.Model(inputs, outputs), learning_rate=1e-2)

    x, y = small_data.inputs(), small_data.labels
    once, _ = tr.fit_best_over_seeds(build, x, y, (x, y), (1,), x, epochs=2, batch_size=32)
    twice, _ = tr.fit_best_over_seeds(build, x, y, (x, y), (2, 1), x, epochs=2, batch_size=32)
    # seed 1 after seed 2's run on the same traced model = seed 1 on a new model: the
    # weights are re-initialised and Adam's moments and step counter reset (else the
    # second run would continue the first)
    np.testing.assert_allclose(twice[1][0], once[1][0], atol=1e-5)
    assert not np.allclose(twice[2][0], once[1][0], atol=1e-3)
    # the best validation epoch, counted from 1, is part of each run (same seed, same epoch)
    runs = (*once.values(), *twice.values())
    assert all(isinstance(run[2], int) and 1 <= run[2] <= 2 for run in runs)
    assert twice[1][2] == once[1][2]


def test_predict_in_length_order_equals_padded_predict(small_data):
    model = tr.build_bst_classifier(small_data.n_items, max_len=small_data.max_len)
    x = small_data.inputs()
    padded = ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(tr.predict_in_length_order(model, x, batch_size=16), padded,
                               atol=1e-5)  # fmt: skip
    compiled = tr.predict_in_length_order(model, x, batch_size=16, compiled=True)
    np.testing.assert_allclose(compiled, padded, atol=1e-5)


def test_predict_in_length_order_compiled_uses_the_predict_step(small_data, monkeypatch):
    model = tr.build_bst_classifier(small_data.n_items, max_len=small_data.max_len)
    calls = []
    original = model.predict_on_batch
    monkeypatch.setattr(
        model, "predict_on_batch", lambda chunk: (calls.append(chunk), original(chunk))[1]
    )
    tr.predict_in_length_order(model, small_data.inputs(), batch_size=16)
    assert calls == []  # eager by default: nothing traced
    tr.predict_in_length_order(model, small_data.inputs(), batch_size=16, compiled=True)
    assert len(calls) == -(-len(small_data) // 16)  # one compiled call per chunk
