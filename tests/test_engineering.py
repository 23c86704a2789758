"""helpers.engineering: the switchable blocks of notebook 13, its diagnostics and its quiz."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from sklearn.metrics import roc_auc_score

from helpers import engineering as eng

ROOT = Path(__file__).resolve().parent.parent
RNG = np.random.default_rng(0)


def _ids(batch=4, time=7, lengths=(7, 5, 3, 6)):
    ids = RNG.integers(1, 6, (batch, time)).astype("int32")
    for row, n in enumerate(lengths):
        ids[row, n:] = 0
    return ids


def test_shared_qk_scores_are_symmetric_and_separate_are_not():
    x = RNG.normal(size=(2, 6, 8)).astype("float32")
    for shared in (True, False):
        layer = eng.SelfAttention(shared_qk=shared)
        layer(x)
        q = x @ ops.convert_to_numpy(layer.w_q)
        k = x @ ops.convert_to_numpy(layer.w_k)
        scores = q @ np.swapaxes(k, 1, 2)
        symmetric = np.allclose(scores, np.swapaxes(scores, 1, 2), atol=1e-5)
        assert symmetric == shared
    assert len(eng.SelfAttention(shared_qk=True).__class__(shared_qk=True).weights) == 0


def test_self_attention_masks_padding_and_matches_numpy():
    x = RNG.normal(size=(2, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = eng.SelfAttention(num_heads=1)
    out, w = layer(x, mask=mask, return_attention=True)
    w = ops.convert_to_numpy(w)[:, 0]
    assert np.all(w[0][:, 3:] == 0) and np.all(w[0][3:] == 0)  # padding keys and queries
    np.testing.assert_allclose(w[0][:3].sum(-1), 1, atol=1e-6)
    q, k, v = (x @ ops.convert_to_numpy(m) for m in (layer.w_q, layer.w_k, layer.w_v))
    s = q[1] @ k[1].T / 2.0
    expected = np.exp(s - s.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(w[1], expected, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(out)[1],
                               expected @ v[1] @ ops.convert_to_numpy(layer.w_o), atol=1e-4)


def test_no_positions_is_permutation_equivariant_and_positions_are_not():
    x = RNG.normal(size=(1, 6, 8)).astype("float32")
    perm = np.array([3, 0, 5, 1, 4, 2])
    block = eng.EncoderBlock(norm="layer")
    y, y_perm = (ops.convert_to_numpy(block(a)) for a in (x, x[:, perm]))
    np.testing.assert_allclose(y[:, perm], y_perm, atol=1e-5)
    ids = np.array([[1, 2, 3, 4, 5, 1]], "int32")
    pos = ops.convert_to_numpy(eng.PositionEncoding("sinusoidal", 40, 8)(ids))
    z, z_perm = (ops.convert_to_numpy(block(a)) for a in (x + pos, x[:, perm] + pos))
    assert not np.allclose(z[:, perm], z_perm, atol=1e-3)


def test_pooled_tower_without_positions_ignores_order():
    inputs = {"behavior_ids": keras.Input((None,), dtype="int32", name="behavior_ids")}
    model = keras.Model(inputs, eng.encoder_tower(inputs, "t", n_items=0, positions="none"))
    ids = _ids()
    shuffled = ids.copy()
    shuffled[0] = shuffled[0][::-1]  # a full-length row: reversing keeps padding at the end
    a, b = (ops.convert_to_numpy(model({"behavior_ids": i})) for i in (ids, shuffled))
    np.testing.assert_allclose(a, b, atol=1e-5)


def _first_session_output(block, ids, training=True):
    x = keras.layers.Embedding(6, 8, embeddings_initializer=keras.initializers.RandomNormal(
        seed=1))(ids)
    return ops.convert_to_numpy(block(x, mask=ids > 0, training=training))[0, :5]


def test_batchnorm_depends_on_the_batch_and_padding_layernorm_does_not():
    ids = _ids(lengths=(5, 5, 3, 6))
    other = ids.copy()
    other[1:] = _ids(3, 7, (2, 7, 4))
    padded = np.pad(ids, ((0, 0), (0, 9)))
    for norm, batch_dependent, padding_dependent in (
        ("layer", False, False), ("batch", True, True), ("masked_batch", True, False),
    ):
        keras.utils.set_random_seed(0)
        block = eng.EncoderBlock(norm=norm)
        base = _first_session_output(block, ids)
        assert (not np.allclose(base, _first_session_output(block, other), atol=1e-5)) \
            == batch_dependent, norm
        assert (not np.allclose(base, _first_session_output(block, padded), atol=1e-5)) \
            == padding_dependent, norm


def test_pre_post_and_residual_switches_compute_the_documented_formulas():
    x = RNG.normal(size=(2, 4, 8)).astype("float32")
    for position in ("pre", "post"):
        for residual in (True, False):
            block = eng.EncoderBlock(norm="layer", norm_position=position, residual=residual)
            y = ops.convert_to_numpy(block(x))
            f1 = lambda h, b=block: ops.convert_to_numpy(b.attention(h))  # noqa: E731
            f2 = lambda h, b=block: ops.convert_to_numpy(b.ff2(b.ff1(h)))  # noqa: E731
            n1, n2 = (lambda h, n=n: ops.convert_to_numpy(n(h)) for n in block.norms)
            h = x
            for f, n in ((f1, n1), (f2, n2)):
                if position == "pre":
                    h = (h if residual else 0) + f(n(h))
                else:
                    h = n((h if residual else 0) + f(h))
            np.testing.assert_allclose(y, h, atol=1e-4)


@pytest.mark.parametrize("kwargs, word", [
    (dict(norm="group"), "norm"), (dict(norm_position="middle"), "norm_position"),
    (dict(num_heads=0), "num_heads"),
])  # fmt: skip
def test_bad_block_options_name_the_choices(kwargs, word):
    with pytest.raises(ValueError, match=word):
        eng.EncoderBlock(**kwargs)


def test_bad_tower_and_position_options_name_the_choices():
    inputs = {"behavior_ids": keras.Input((None,), dtype="int32", name="behavior_ids")}
    with pytest.raises(ValueError, match=r"positions must be one of \('none', 'learned'"):
        eng.encoder_tower(inputs, "t", n_items=0, positions="rotary")
    with pytest.raises(ValueError, match="combine must be one of"):
        eng.encoder_tower(inputs, "t", n_items=0, combine="multiply")
    with pytest.raises(ValueError, match="multiple of 4"):
        eng.PositionEncoding("learned", 40, 6)
    with pytest.raises(ValueError, match="kind must be one of"):
        eng.build_towers({"a": {}}, kind="gru")
    with pytest.raises(ValueError, match="at least one"):
        eng.build_towers({})
    with pytest.raises(ValueError, match="even"):
        eng.sinusoidal_table(10, 5)


def test_sinusoidal_table_matches_the_formula_and_offsets_are_rotations():
    table = eng.sinusoidal_table(50, 8)
    assert table[7, 2] == pytest.approx(np.sin(7 / 10000 ** (2 / 8)), abs=1e-6)
    assert table[7, 3] == pytest.approx(np.cos(7 / 10000 ** (2 / 8)), abs=1e-6)
    # the dot product of two positions depends only on their offset
    dots = [table[t] @ table[t + 5] for t in range(0, 40, 7)]
    np.testing.assert_allclose(dots, dots[0], atol=1e-5)


def test_position_encoding_ignores_padding_amount():
    ids = _ids()
    layer = eng.PositionEncoding("learned", 40, 8)
    a = ops.convert_to_numpy(layer(ids))
    b = ops.convert_to_numpy(layer(np.pad(ids, ((0, 0), (0, 5)))))
    np.testing.assert_allclose(a, b[:, :7], atol=0)
    assert np.all(b[:, 7:] == 0) and np.all(a[ids == 0] == 0)


def test_layers_serialize(tmp_path):
    inputs = {"behavior_ids": keras.Input((None,), dtype="int32", name="behavior_ids")}
    logit = eng.encoder_tower(inputs, "t", n_items=0, norm_position="pre", shared_qk=True,
                              positions="sinusoidal", combine="concat", num_blocks=2)
    model = keras.Model(inputs, logit)
    ids = {"behavior_ids": _ids()}
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(ops.convert_to_numpy(model(ids)),
                               ops.convert_to_numpy(loaded(ids)), atol=1e-6)
    for layer in (eng.EncoderBlock(norm="batch", residual=False), eng.SelfAttention(2, True),
                  eng.PositionEncoding("sinusoidal", 20, 8)):
        config = json.loads(json.dumps(layer.get_config()))
        assert type(layer).from_config(config).get_config() == layer.get_config()


def test_towers_train_independently():
    keras.utils.set_random_seed(0)
    model = eng.build_towers({"a": dict(n_items=0), "b": dict(n_items=0, norm="none")})
    ids = {"behavior_ids": _ids()}
    before = [w.numpy().copy() for w in model.trainable_variables]
    y = np.array([1, 0, 0, 1], "float32")
    with tf.GradientTape() as tape:
        loss = eng.summed_binary_crossentropy(y, model(ids))
    grads = tape.gradient(loss, model.trainable_variables)
    with tf.GradientTape() as tape:
        loss_a = eng.summed_binary_crossentropy(y, model(ids)[:, :1])
    grads_a = tape.gradient(loss_a, model.trainable_variables)
    for var, g, ga in zip(model.trainable_variables, grads, grads_a, strict=True):
        g = None if g is None else tf.convert_to_tensor(g).numpy()  # embeddings: IndexedSlices
        ga = None if ga is None else tf.convert_to_tensor(ga).numpy()
        if var.path.startswith("t0"):  # tower a: its own term of the sum only
            np.testing.assert_allclose(g, ga, atol=1e-6)
        else:
            assert ga is None or np.allclose(ga, 0)
    assert model.output_shape == (None, 2) and len(before) == len(grads)
    assert [i.name for i in model.inputs] == ["behavior_ids"]


def test_gradient_norms_per_layer_match_a_tape_by_hand():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="d1"),
                              keras.layers.Dense(1, name="d2")])  # fmt: skip
    x = RNG.normal(size=(8, 3)).astype("float32")
    y = RNG.normal(size=(8, 1)).astype("float32")

    def mse(t, p):
        return ops.mean(ops.square(t - p))

    norms = eng.gradient_norms_per_layer(model, x, y, loss_fn=mse)
    # by hand: d2's gradient is (2/n) hᵀ (p - y) for the kernel and the sum for the bias
    h = x @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy()
    p = h @ model.layers[1].kernel.numpy() + model.layers[1].bias.numpy()
    r = 2 * (p - y) / len(x)
    expected_d2 = np.sqrt(np.sum((h.T @ r) ** 2) + np.sum(r.sum(0) ** 2))
    assert norms["d2"] == pytest.approx(expected_d2, rel=1e-4)
    back = r @ model.layers[1].kernel.numpy().T
    expected_d1 = np.sqrt(np.sum((x.T @ back) ** 2) + np.sum(back.sum(0) ** 2))
    assert norms["d1"] == pytest.approx(expected_d1, rel=1e-4)
    with pytest.raises(ValueError, match="not compiled"):
        eng.gradient_norms_per_layer(model, x, y)


def test_diagnose_auc_below_half_tells_the_cases_apart():
    rng = np.random.default_rng(3)
    y = (rng.random(4000) < 0.05).astype(int)
    s = y * 1.0 + rng.normal(size=4000)
    y_tr = (rng.random(4000) < 0.05).astype(int)
    s_tr = y_tr * 1.0 + rng.normal(size=4000)
    kw = dict(expected_positive_rate=0.05)
    assert eng.diagnose_auc_below_half(y, s, **kw)["verdict"] == "not below 0.5"
    assert eng.diagnose_auc_below_half(1 - y, s, **kw)["verdict"] == "labels flipped"
    assert eng.diagnose_auc_below_half(y, -s, train_labels=y_tr, train_scores=-s_tr,
                                       **kw)["verdict"] == "scores reversed"
    assert eng.diagnose_auc_below_half(y, -s, train_labels=y_tr, train_scores=s_tr,
                                       **kw)["verdict"] == "train/evaluation reversal"
    assert eng.diagnose_auc_below_half(y, -s, **kw)["verdict"] == "unexplained"
    noise = rng.normal(size=4000)
    result = eng.diagnose_auc_below_half(y, noise, **kw)
    assert result["verdict"] in ("chance", "not below 0.5")
    assert result["roc_auc"] == pytest.approx(roc_auc_score(y, noise))
    with pytest.raises(ValueError, match="both 0 and 1"):
        eng.diagnose_auc_below_half(np.zeros(5), np.arange(5))
    with pytest.raises(ValueError, match="one length"):
        eng.diagnose_auc_below_half(y, s[:10])


def test_null_auc_spread_matches_shuffled_labels():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.1).astype(int)
    s = rng.normal(size=2000)
    aucs = [roc_auc_score(rng.permutation(y), s) for _ in range(300)]
    spread = eng.diagnose_auc_below_half(y, s)["chance_spread"]
    assert np.std(aucs) == pytest.approx(spread, rel=0.2)


def test_question_bank_numeric_answers():
    bank = json.loads((ROOT / "helpers/question_bank/13_transformer_engineering.json").read_text())
    assert bank["notebook"] == "13_transformer_engineering"
    assert 4 <= len(bank["questions"]) <= 8 and 3 <= len(bank["quiz"]) <= 5
    answers = {q["id"]: q for q in bank["quiz"]}
    # 6·N^0.25 for a catalogue of 10,000 items
    assert answers["13-q2"]["answer"] == pytest.approx(6 * 10_000 ** 0.25,
                                                       abs=answers["13-q2"]["tolerance"])
    # AUC after flipping labels: 1 - AUC
    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.2).astype(int)
    s = y * 0.8 + rng.normal(size=3000)
    auc = roc_auc_score(y, s)
    flipped = roc_auc_score(1 - y, s)
    assert flipped == pytest.approx(1 - auc)
    assert answers["13-q3"]["answer"] == pytest.approx(1 - 0.72, abs=answers["13-q3"]["tolerance"])


def test_build_towers_creates_adam_state_before_training_and_trains_the_same():
    # built eagerly so the first traced step creates no variables (one trace, not two);
    # the result must equal an optimizer left to build itself inside fit
    ids = {"behavior_ids": np.tile(_ids(), (8, 1))}
    y = np.tile(np.array([1, 0, 0, 1], "float32"), 8)
    weights = []
    for prebuilt in (True, False):
        keras.utils.set_random_seed(0)
        model = eng.build_towers({"a": dict(n_items=0), "b": dict(n_items=0, norm="none")})
        assert model.optimizer.built and len(model.optimizer.variables) > 2
        if not prebuilt:
            model.compile(optimizer=keras.optimizers.Adam(3e-3),
                          loss=eng.summed_binary_crossentropy)  # fmt: skip
            assert not model.optimizer.built
        model.fit(ids, y, epochs=2, batch_size=8, verbose=0)
        weights.append([w.numpy() for w in model.trainable_variables])
    for a, b in zip(*weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
