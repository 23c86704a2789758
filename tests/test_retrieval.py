"""helpers.retrieval: simulator, losses (against independent loops), towers, metrics,
the in-batch softmax checker, the question bank file and the benchmark's JSON."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from helpers.retrieval import losses, metrics
from helpers.retrieval.simulator import make_catalogue, make_retrieval_data

ROOT = Path(__file__).resolve().parent.parent
BANK = ROOT / "helpers/question_bank/12_retrieval_negative_sampling.json"


# --- simulator -------------------------------------------------------------------------
def small(n=400, seed=0, **options):
    return make_retrieval_data(n, make_catalogue(300, 10, 0.8, seed=seed), seed=seed, **options)


def test_same_seed_same_bytes_and_another_seed_differs():
    a, b, c = small(seed=1), small(seed=1), small(seed=2)
    assert a.history.tobytes() == b.history.tobytes() and (a.target == b.target).all()
    assert a.history.tobytes() != c.history.tobytes()


def test_shapes_ids_and_interests():
    data = small()
    assert data.history.shape == (400, 20) and data.target.shape == (400,)
    assert data.history.min() >= 1 and data.history.max() <= 300
    assert set(np.unique(data.n_interests)) <= {1, 2, 3}
    used = data.interests >= 0
    assert (used.sum(axis=1) == data.n_interests).all()
    np.testing.assert_allclose(data.weights.sum(axis=1), 1)
    # distinct interests per user
    for row, k in zip(data.interests, data.n_interests, strict=True):
        assert len(set(row[:k])) == k


def test_next_item_probs_is_a_distribution_and_matches_sampled_targets():
    data = small(n=4000)
    probs = data.next_item_probs()
    np.testing.assert_allclose(probs.sum(axis=1), 1)
    assert (probs[:, 0] == 0).all()
    # E[P(target)] = E[sum_i p_i^2] when the target is drawn from p (independent of the code path)
    observed = probs[np.arange(len(data)), data.target].mean()
    expected = (probs**2).sum(axis=1).mean()
    assert abs(observed - expected) < 0.1 * expected


def test_without_noise_and_switching_the_target_is_in_the_last_state():
    data = small(noise=0.0, stay=1.0)
    cat = data.catalogue.item_category
    assert (cat[data.target] == data.last_state).all()
    assert (cat[data.history[:, -1]] == data.last_state).all()


def test_pure_noise_follows_popularity():
    data = small(n=20_000, noise=1.0)
    top = np.argsort(-data.catalogue.popularity)[:10]
    share = np.isin(data.target, top).mean()
    assert abs(share - data.catalogue.popularity[top].sum()) < 0.02


def test_oracle_recall_is_the_sum_of_the_top_probabilities():
    data = small()
    probs = data.next_item_probs()
    by_hand = np.mean([sum(sorted(row)[-10:]) for row in probs])
    assert data.oracle_recall(10) == pytest.approx(by_hand)
    assert data.oracle_recall(10) < data.oracle_recall(50) <= 1


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: make_catalogue(5, 10), "n_categories"),
        (lambda: make_catalogue(100, 10, zipf=-1), "zipf"),
        (lambda: make_retrieval_data(10, make_catalogue(50, 5), stay=1.5), "stay"),
        (lambda: make_retrieval_data(10, make_catalogue(50, 5), interest_probs=(1, 1, 1)),
         "interest_probs"),
    ],
)
def test_bad_simulator_arguments_raise_value_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


# --- losses: NumPy references and keras.ops versions vs plain loops ---------------------
def loop_in_batch(u, v, log_q=None):
    total = 0.0
    for i in range(len(u)):
        logits = [sum(a * b for a, b in zip(u[i], v[j], strict=True))
                  - (0 if log_q is None else log_q[j]) for j in range(len(v))]  # fmt: skip
        total += -logits[i] + math.log(sum(math.exp(x) for x in logits))
    return total / len(u)


def loop_softmax(u, candidates, positive_index):
    """-log softmax over explicit candidate vectors, per row (lists of rows)."""
    total = 0.0
    for row, cands, pos in zip(u, candidates, positive_index, strict=True):
        logits = [float(np.dot(row, c)) for c in cands]
        total += -logits[pos] + math.log(sum(math.exp(x) for x in logits))
    return total / len(u)


@pytest.fixture
def vectors():
    rng = np.random.default_rng(3)
    return rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), np.log(rng.dirichlet(np.ones(5)))


@pytest.mark.parametrize("corrected", [False, True])
def test_in_batch_softmax_np_and_keras_match_a_loop(vectors, corrected):
    from keras import ops

    u, v, log_q = vectors
    lq = log_q if corrected else None
    expected = loop_in_batch(u.tolist(), v.tolist(), None if lq is None else lq.tolist())
    assert losses.in_batch_softmax_np(u, v, lq) == pytest.approx(expected, rel=1e-9)
    tensor = losses.in_batch_softmax_loss(
        ops.convert_to_tensor(u, "float32"), ops.convert_to_tensor(v, "float32"),
        None if lq is None else ops.convert_to_tensor(lq, "float32"),
    )
    assert float(tensor) == pytest.approx(expected, rel=1e-5)


def test_full_softmax_matches_a_loop_and_ignores_padding(vectors):
    from keras import ops

    u, _, _ = vectors
    table = np.random.default_rng(4).normal(size=(7, 4))
    targets = np.array([1, 2, 6, 3, 1])
    expected = loop_softmax(u, [table[1:]] * 5, targets - 1)  # row 0 (padding) left out
    assert losses.full_softmax_np(u, table, targets) == pytest.approx(expected, rel=1e-9)
    got = losses.full_softmax_loss(ops.convert_to_tensor(u, "float32"),
                                   ops.convert_to_tensor(table, "float32"),
                                   ops.convert_to_tensor(targets, "int32"))  # fmt: skip
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_sampled_softmax_matches_a_loop(vectors):
    from keras import ops

    u, v, _ = vectors
    negatives = np.random.default_rng(5).normal(size=(3, 4))
    log_q = np.log([0.5, 0.3, 0.2])
    total = 0.0
    for row, pos in zip(u, v, strict=True):
        logits = [row @ pos] + [row @ n - lq for n, lq in zip(negatives, log_q, strict=True)]
        total += -logits[0] + math.log(sum(math.exp(x) for x in logits))
    expected = total / len(u)
    assert losses.sampled_softmax_np(u, v, negatives, log_q) == pytest.approx(expected, rel=1e-9)
    got = losses.sampled_softmax_loss(*(ops.convert_to_tensor(a, "float32")
                                        for a in (u, v, negatives, log_q)))  # fmt: skip
    assert float(got) == pytest.approx(expected, rel=1e-5)
    hits = ops.convert_to_tensor(np.eye(5, 3, dtype=bool))  # row i's negative i is a "hit"
    tensors = [ops.convert_to_tensor(a, "float32") for a in (u, v, negatives)]
    masked = float(losses.sampled_softmax_loss(*tensors, accidental_hits=hits))
    by_hand = np.mean([loop_softmax([row], [[pos] + [n for j, n in enumerate(negatives) if j != i]],
                                    [0]) for i, (row, pos) in enumerate(zip(u, v, strict=True))])
    assert masked == pytest.approx(by_hand, rel=1e-5)


def test_bce_one_negative_matches_a_loop(vectors):
    from keras import ops

    u, v, _ = vectors
    neg = v[::-1]
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected = np.mean([-math.log(sig(a @ p)) - math.log(1 - sig(a @ n))
                        for a, p, n in zip(u, v, neg, strict=True)])  # fmt: skip
    assert losses.bce_one_negative_np(u, v, neg) == pytest.approx(expected, rel=1e-9)
    got = losses.bce_one_negative_loss(*(ops.convert_to_tensor(a, "float32") for a in (u, v, neg)))
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_log_counts_and_log_probabilities_give_the_same_in_batch_loss(vectors):
    u, v, log_q = vectors
    assert losses.in_batch_softmax_np(u, v, log_q + 7.0) == pytest.approx(
        losses.in_batch_softmax_np(u, v, log_q)
    )


def test_in_batch_softmax_np_rejects_bad_shapes(vectors):
    u, v, log_q = vectors
    with pytest.raises(ValueError, match="same shape"):
        losses.in_batch_softmax_np(u, v[:3])
    with pytest.raises(ValueError, match="log_q"):
        losses.in_batch_softmax_np(u, v, log_q[:2])


# --- metrics -----------------------------------------------------------------------------
def test_target_ranks_and_report_by_hand():
    scores = np.array([[-np.inf, 0.9, 0.5, 0.1], [-np.inf, 0.2, 0.2, 0.8]])
    ranks = metrics.target_ranks(scores, np.array([2, 1]))
    assert ranks.tolist() == [2, 3]  # the tie counts against the target
    row = metrics.report_from_ranks(ranks, np.array([2, 1]), ks=(1, 2))
    assert row["recall_at_1"] == 0 and row["recall_at_2"] == 0.5
    assert row["ndcg_at_10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / 2, abs=1e-4)
    with pytest.raises(ValueError, match="item ids"):
        metrics.target_ranks(scores, np.array([0, 1]))


def test_sampled_auc_depends_on_the_negatives():
    n = 200
    popularity = np.r_[0, 1 / np.arange(1, n + 1)]
    targets = np.random.default_rng(0).choice(n + 1, size=500, p=popularity / popularity.sum())
    scores = np.broadcast_to(popularity, (500, n + 1))  # the popularity baseline
    uniform = metrics.sampled_auc(scores, targets, np.r_[0, np.ones(n)])
    by_popularity = metrics.sampled_auc(scores, targets, popularity)
    assert uniform > 0.8 and abs(by_popularity - 0.5) < 0.1


def test_head_items_are_the_most_frequent():
    head = metrics.head_items(np.array([3, 3, 3, 1, 1, 2]), 5, share=0.4)
    assert np.flatnonzero(head).tolist() == [1, 3]


# --- towers ------------------------------------------------------------------------------
def test_two_tower_shapes_serving_and_bad_loss():
    from helpers.retrieval import towers

    data = small(n=64)
    cat = data.catalogue.item_category
    with pytest.raises(ValueError, match="loss must be one of"):
        towers.build_two_tower(cat, data.target, loss="softmax")
    for n_interests in (1, 3):
        model = towers.build_two_tower(cat, data.target, dim=8, n_interests=n_interests)
        users = towers.user_vectors(model, data.history[:5])
        assert users.shape == ((5, 8) if n_interests == 1 else (5, 3, 8))
        table = model.item_table()
        assert table.shape == (301, 8)
        scores = towers.item_scores(users, table)
        assert scores.shape == (5, 301) and np.isneginf(scores[:, 0]).all()
        best = towers.top_k(users, table, k=7)
        np.testing.assert_array_equal(best, np.argsort(-scores, axis=1, kind="stable")[:, :7])


@pytest.mark.parametrize("loss", ["full_softmax", "sampled_softmax", "in_batch", "in_batch_logq",
                                  "bce_one_negative", "hard_negatives"])
def test_every_loss_trains_one_step_to_a_finite_loss(loss):
    from helpers.retrieval import towers

    data = small(n=128)
    model = towers.build_two_tower(data.catalogue.item_category, data.target, loss=loss, dim=8,
                                   n_negatives=16, n_hard=4)  # fmt: skip
    history = model.fit(data.history, data.target, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_in_batch_logq_loss_in_the_model_equals_the_reference():
    from keras import ops

    from helpers.retrieval import towers

    data = small(n=32)
    model = towers.build_two_tower(data.catalogue.item_category, data.target, dim=8)
    users = model(data.history)
    got = float(model.compute_loss(y=data.target, y_pred=users))
    items = ops.convert_to_numpy(model.item_vectors(data.target))
    log_q = towers.sampling_log_q(data.target, 300)[data.target]
    assert got == pytest.approx(losses.in_batch_softmax_np(ops.convert_to_numpy(users), items,
                                                           log_q), rel=1e-4)  # fmt: skip


def test_multi_interest_weights_and_readout():
    from keras import ops

    from helpers.retrieval.multi_interest import MultiInterestPooling, best_interest

    x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    mask = np.array([[True] * 5, [True, True, False, False, False]])
    interests, weights = MultiInterestPooling(3)(x, mask=mask, return_attention=True)
    weights = ops.convert_to_numpy(weights)
    np.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-5)
    assert np.all(weights[1, :, 2:] < 1e-6)
    vectors = ops.convert_to_numpy(interests)
    target = np.random.default_rng(1).normal(size=(2, 4)).astype("float32")
    best = [int(np.argmax([row[k] @ t for k in range(3)])) for row, t in zip(vectors, target,
                                                                               strict=True)]
    picked = ops.convert_to_numpy(best_interest(interests, target))
    np.testing.assert_allclose(picked, vectors[np.arange(2), best])
    with pytest.raises(ValueError, match="n_interests"):
        MultiInterestPooling(0)


# --- the exercise checker ------------------------------------------------------------------
def _reference_keras(u, v, log_q=None):
    from keras import ops

    return losses.in_batch_softmax_loss(ops.convert_to_tensor(u, "float32"),
                                        ops.convert_to_tensor(v, "float32"),
                                        None if log_q is None else
                                        ops.convert_to_tensor(log_q, "float32"))  # fmt: skip


def _log_softmax(x, axis):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def wrong_sign(u, v, log_q=None):
    return losses.in_batch_softmax_np(u, v, None if log_q is None else -log_q)


def wrong_rows(u, v, log_q=None):
    logits = u @ v.T - (0 if log_q is None else log_q[:, None])
    return float(-np.mean(np.diag(_log_softmax(logits, 1))))


def wrong_axis(u, v, log_q=None):
    logits = u @ v.T - (0 if log_q is None else log_q[None, :])
    return float(-np.mean(np.diag(_log_softmax(logits, 0))))


def wrong_diagonal(u, v, log_q=None):
    logits = u @ v.T - (0 if log_q is None else log_q[None, :])
    masked = np.where(np.eye(len(u), dtype=bool), -np.inf, logits)
    top = masked.max(axis=1)
    lse = top + np.log(np.exp(masked - top[:, None]).sum(axis=1))
    return float(-np.mean(np.diag(logits) - lse))


def wrong_sum(u, v, log_q=None):
    return len(u) * losses.in_batch_softmax_np(u, v, log_q)


def wrong_per_row(u, v, log_q=None):
    logits = u @ v.T - (0 if log_q is None else log_q[None, :])
    return -np.diag(_log_softmax(logits, 1))


def wrong_double_log(u, v, log_q=None):
    with np.errstate(invalid="ignore"):
        return losses.in_batch_softmax_np(u, v, None if log_q is None else np.log(log_q))


def wrong_probabilities(u, v, log_q=None):
    logits = u @ v.T - (0 if log_q is None else np.exp(log_q)[None, :])
    return float(-np.mean(np.diag(_log_softmax(logits, 1))))


def wrong_unstable(u, v, log_q=None):
    logits = u @ v.T - (0 if log_q is None else log_q[None, :])
    with np.errstate(all="ignore"):
        e = np.exp(logits)
        return float(-np.mean(np.log(np.diag(e) / e.sum(axis=1))))


def wrong_no_none(u, v, log_q):
    return losses.in_batch_softmax_np(u, v, log_q - 0)


def stub(u, v, log_q=None):
    raise NotImplementedError


@pytest.mark.parametrize("answer", [losses.in_batch_softmax_np, _reference_keras])
def test_checker_accepts_numpy_and_keras_answers(answer, capsys):
    from helpers.retrieval.checks import check_in_batch_softmax

    assert check_in_batch_softmax(answer) is True
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (wrong_sign, "wrong sign"),
        (wrong_rows, "per row"),
        (wrong_axis, "wrong axis"),
        (wrong_diagonal, "diagonal is masked"),
        (wrong_sum, "sums the rows"),
        (wrong_per_row, "one number"),
        (wrong_double_log, "log again"),
        (wrong_probabilities, "exp(log_q)"),
        (wrong_unstable, "large scores"),
        (wrong_no_none, "None"),
    ],
)
def test_checker_names_each_mistake(answer, words):
    from helpers.retrieval.checks import check_in_batch_softmax

    with pytest.raises(AssertionError, match=None) as failure:
        check_in_batch_softmax(answer)
    assert words in str(failure.value), str(failure.value)


def test_checker_says_not_attempted_for_the_stub(capsys):
    from helpers.retrieval.checks import check_in_batch_softmax

    assert check_in_batch_softmax(stub) is False
    assert "not attempted yet" in capsys.readouterr().out


# --- question bank ---------------------------------------------------------------------------
def test_question_bank_file_loads_and_numeric_answers_recompute():
    from helpers.quiz import _read_file

    questions, items = _read_file(BANK)
    assert 4 <= len(questions) <= 8 and 3 <= len(items) <= 5
    answers = {i.id: i.answer for i in items if hasattr(i, "tolerance")}
    eye = np.eye(2)
    assert answers["12-q1"] == pytest.approx(loop_in_batch(eye.tolist(), eye.tolist()), abs=1e-9)
    assert answers["12-q2"] == pytest.approx(
        loop_in_batch(eye.tolist(), eye.tolist(), [math.log(0.9), math.log(0.1)]), abs=1e-9
    )
    assert answers["12-q3"] == pytest.approx(100**0.75 / (100**0.75 + 1**0.75), abs=1e-9)
    doc = json.loads(BANK.read_text(encoding="utf-8"))
    shift = next(q for q in doc["quiz"] if q["id"] == "12-q4")
    rng = np.random.default_rng(1)
    u, v, q = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.dirichlet(np.ones(4))
    unchanged = losses.in_batch_softmax_np(u, v, np.log(q)) == pytest.approx(
        losses.in_batch_softmax_np(u, v, np.log(1000 * q)))  # fmt: skip
    assert unchanged and shift["answer"] == "b"


# --- benchmark ---------------------------------------------------------------------------------
def test_benchmark_json_has_every_model_and_key(capsys):
    from helpers.retrieval.benchmark import main

    main(["--json", "--n-train", "600", "--n-test", "100", "--n-items", "200",
          "--n-categories", "8", "--epochs", "1", "--batch-size", "200"])  # fmt: skip
    rows = json.loads(capsys.readouterr().out)
    models = [r["model"] for r in rows]
    for name in ("popularity", "full_softmax", "sampled_softmax", "in_batch", "in_batch_logq",
                 "bce_one_negative", "hard_negatives", "multi_interest", "oracle"):  # fmt: skip
        assert name in models
    for row in rows:
        for key in ("recall_at_10", "recall_at_50", "ndcg_at_10", "train_seconds"):
            assert key in row
        assert 0 <= row["recall_at_10"] <= row["recall_at_50"] <= 1


def test_restart_gives_the_same_model_as_a_fresh_build():
    from helpers.retrieval import towers

    first, second = small(n=256, seed=0), small(n=256, seed=5)
    second_targets = second.target
    fresh = towers.build_two_tower(first.catalogue.item_category, second_targets, dim=8, seed=3)
    towers.fit_two_tower(fresh, second, epochs=1, batch_size=64)
    reused = towers.build_two_tower(first.catalogue.item_category, first.target, dim=8, seed=0)
    towers.fit_two_tower(reused, first, epochs=1, batch_size=64)
    towers.restart(reused, second_targets, seed=3)
    towers.fit_two_tower(reused, second, epochs=1, batch_size=64)
    np.testing.assert_allclose(reused.item_table(), fresh.item_table(), rtol=1e-5, atol=1e-6)


def test_fit_two_tower_trains_whole_batches_only():
    from helpers.retrieval import towers

    data = small(n=200)
    model = towers.build_two_tower(data.catalogue.item_category, data.target, dim=8)
    towers.fit_two_tower(model, data, epochs=2, batch_size=64)
    assert int(model.optimizer.iterations) == 2 * (200 // 64)  # 3 whole batches per epoch
    with pytest.raises(ValueError, match="batch_size"):
        towers.fit_two_tower(model, data, epochs=1, batch_size=256)


def test_build_two_tower_creates_adam_state_before_training():
    from helpers.retrieval import towers

    data = small(n=128)
    model = towers.build_two_tower(data.catalogue.item_category, data.target, dim=8)
    assert model.optimizer.built  # no variable created inside the traced step: one trace
    n_state = len(model.optimizer.variables)
    towers.fit_two_tower(model, data, epochs=1, batch_size=64)
    assert len(model.optimizer.variables) == n_state and int(model.optimizer.iterations) == 2
