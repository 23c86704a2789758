"""helpers.ctr: the simulator's known probabilities, SIM search, layers, serving, benchmark."""

import json

import keras
import numpy as np
import pytest

from helpers.ctr import models as ctr
from helpers.ctr import serving
from helpers.ctr.layers import AttentionGRUCell, Dice, DINAttention, din_pooling
from helpers.ctr.simulator import BEHAVIOR_WEIGHT, make_ctr_dataset


@pytest.fixture(scope="module")
def data():
    return make_ctr_dataset(300, seed=3, history_len=30)


def test_same_seed_same_bytes_and_shapes(data):
    again = make_ctr_dataset(300, seed=3, history_len=30)
    for name in ("hist_items", "hist_cats", "cand_item", "click", "p_click", "conv"):
        assert np.array_equal(getattr(data, name), getattr(again, name))
    assert data.hist_items.shape == (300, 30) and len(data) == 300 * 6
    assert not np.array_equal(make_ctr_dataset(300, seed=4, history_len=30).click, data.click)
    # conversions only after clicks
    assert np.all(data.conv <= data.click)


def test_click_probability_is_the_documented_share(data):
    half_life = data.info["half_life"]
    for row in range(0, len(data), 97):  # an independent loop over events
        u = data.user[row]
        num = den = 0.0
        for t in range(30):
            if data.hist_items[u, t] == 0:
                continue
            w = 0.5 ** ((29 - t) / half_life) * BEHAVIOR_WEIGHT[data.hist_behaviors[u, t]]
            den += w
            num += w * (data.hist_cats[u, t] == data.cand_cat[row])
        assert data.share[row] == pytest.approx(num / den)
    # padding is all-or-nothing per event and at the start of a row
    pad = data.hist_items == 0
    assert np.array_equal(pad, data.hist_cats == 0)
    assert np.all(np.diff(pad.astype(int), axis=1) <= 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="impressions_per_user"):
        make_ctr_dataset(10, impressions_per_user=1)
    with pytest.raises(ValueError, match="n_users"):
        make_ctr_dataset(0)


def test_split_is_by_user(data):
    a, b = data.split((0.5, 0.5), seed=0)
    assert not set(a.user) & set(b.user)
    assert len(a) + len(b) == len(data)


def test_sim_hard_search_keeps_the_most_recent_events_of_the_category(data):
    k = 4
    x = ctr.sim_hard_search(data, k=k)
    for row in range(0, len(data), 41):
        u, c = data.user[row], data.cand_cat[row]
        positions = [t for t in range(30) if data.hist_cats[u, t] == c][-k:]
        expected = [data.hist_items[u, t] for t in positions]
        got = [i for i in x["hist_items"][row] if i]
        assert got == expected
        assert all(cat == c for cat in x["hist_cats"][row] if cat)


@pytest.mark.parametrize("normalization", ["none", "softmax"])
def test_din_attention_masks_padding(normalization):
    rng = np.random.default_rng(0)
    q = rng.normal(size=(2, 6)).astype("float32")
    k = rng.normal(size=(2, 5, 6)).astype("float32")
    mask = np.array([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], bool)
    layer = DINAttention((8,), normalization=normalization, return_attention=True)
    pooled, w = (keras.ops.convert_to_numpy(t) for t in layer([q, k], mask=[None, mask]))
    assert np.all(w[~mask] == 0)
    if normalization == "softmax":
        assert np.allclose(w.sum(1), 1, atol=1e-5)
    k2 = k.copy()
    k2[~mask] = 100.0  # padding values cannot matter
    pooled2, _ = layer([q, k2], mask=[None, mask])
    assert np.allclose(pooled, keras.ops.convert_to_numpy(pooled2), atol=1e-5)
    with pytest.raises(ValueError, match="same last dimension"):
        DINAttention()([q[:, :3], k], mask=[None, mask])


def test_din_pooling_reference_matches_the_layer():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(3, 4)).astype("float32")
    k = rng.normal(size=(3, 7, 4)).astype("float32")
    mask = rng.random((3, 7)) > 0.3
    for normalization in ("none", "softmax"):
        layer = DINAttention((5,), normalization=normalization, return_attention=True)
        pooled, w = layer([q, k], mask=[None, mask])
        ref_pooled, ref_w = din_pooling(q, k, mask, lambda f, layer=layer: keras.ops.expand_dims(
            _unit(layer, f), -1), normalization == "softmax")
        assert np.allclose(keras.ops.convert_to_numpy(w), keras.ops.convert_to_numpy(ref_w),
                           atol=1e-5)


def _unit(layer, features):
    x = features
    for dense, act in zip(layer.hidden, layer.acts, strict=True):
        x = act(dense(x))
    return keras.ops.squeeze(layer.out(x), -1)


def test_dice_and_din_attention_keras_harness():
    from keras.src.testing import TestCase

    case = TestCase()
    case.run_layer_test(
        Dice, init_kwargs={}, input_shape=(4, 3), expected_output_shape=(4, 3),
        expected_num_trainable_weights=1, expected_num_non_trainable_weights=2,
        run_mixed_precision_check=False,
    )


def test_attention_gru_cell_ignores_unattended_steps():
    rng = np.random.default_rng(2)
    states = rng.normal(size=(2, 5, 3)).astype("float32")
    for mode in ("augru", "agru"):
        rnn = keras.layers.RNN(AttentionGRUCell(4, mode=mode))
        zero = np.concatenate([states, np.zeros((2, 5, 1), "float32")], -1)
        assert np.allclose(keras.ops.convert_to_numpy(rnn(zero)), 0.0)  # a = 0: state stays h0
        one = np.concatenate([states, np.ones((2, 5, 1), "float32")], -1)
        assert np.abs(keras.ops.convert_to_numpy(rnn(one))).max() > 1e-3
    with pytest.raises(ValueError, match="mode"):
        AttentionGRUCell(4, mode="lstm")


@pytest.mark.parametrize("name", ["pooling_attention", "din", "din_softmax", "dien"])
def test_models_train_save_and_load(name, data, tmp_path):
    neg = 1 if name == "dien" else None
    # the 10 most recent events keep the recurrent DIEN quick
    x = ctr.model_inputs(data, max_len=10, negatives_seed=neg)
    model = ctr.BUILDERS[name](data.n_items, data.n_categories, history_len=10)
    ctr.train(model, x, data.click, epochs=1, batch_size=256)
    p = ctr.predict(model, x)
    assert p.shape == (len(data),) and np.all((p > 0) & (p < 1))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.models.load_model(path, safe_mode=True)
    assert np.allclose(ctr.predict(restored, x), p, atol=1e-5)


def test_esmm_outputs_the_product(data):
    model = ctr.build_esmm_model(data.n_items, data.n_categories)
    x = ctr.model_inputs(data)
    model.fit(x, {"ctr": data.click, "ctcvr": data.conv}, epochs=1, batch_size=512, verbose=0)
    out = ctr.predict(model, x)
    cvr = ctr.predict(ctr.esmm_cvr_model(model), x)
    assert np.allclose(out["ctcvr"], out["ctr"] * cvr, atol=1e-6)


@pytest.mark.parametrize("normalization", ["none", "softmax"])
def test_serving_paths_equal_the_model(data, normalization):
    model = ctr.build_din_model(data.n_items, data.n_categories, normalization=normalization)
    x = ctr.model_inputs(data)
    ctr.train(model, x, data.click, epochs=1, batch_size=512)
    parts = serving.din_parts(model)
    user = int(data.user[0])
    rows = np.flatnonzero(data.user == user)
    history = (data.hist_items[user], data.hist_cats[user], data.hist_behaviors[user])
    p_model = ctr.predict(model, {k: v[rows] for k, v in x.items()})
    args = (parts, history, data.segment[user], data.cand_item[rows], data.cand_cat[rows])
    assert np.allclose(serving.score_naive(*args), p_model, atol=1e-4)
    assert np.allclose(serving.score_user_once(*args), p_model, atol=1e-4)


def test_benchmark_json_keys(capsys):
    from helpers.ctr import benchmark

    # short histories keep the recurrent DIEN quick
    benchmark.main(["--json", "--n-users", "200", "--long-users", "100", "--history-len", "8",
                    "--long-history", "60", "--epochs", "1"])
    rows = json.loads(capsys.readouterr().out)
    names = {r["model"] for r in rows}
    assert {"pooling_attention", "din", "dien", "sim_hard"} <= names
    assert {r["history_len"] for r in rows if r["data"] == "short"} == {8}
    for r in rows:
        if r["model"] != "din_full_history_cost_only":
            for key in ("roc_auc", "gauc", "bayes_roc_auc", "bayes_gauc", "log_loss",
                        "train_seconds"):
                assert isinstance(r[key], float), (r["model"], key)


def test_restart_as_trains_exactly_like_a_fresh_model(data):
    x = ctr.model_inputs(data, max_len=10)
    keras.utils.set_random_seed(3)
    used = ctr.build_din_model(data.n_items, data.n_categories)
    ctr.train(used, x, data.click, epochs=1, batch_size=256)

    def fresh_then_trained(restart):
        keras.utils.set_random_seed(7)
        fresh = ctr.build_din_model(data.n_items, data.n_categories)
        model = ctr.restart_as(used, fresh) if restart else fresh
        ctr.train(model, x, data.click, epochs=1, batch_size=256)
        return ctr.predict(model, x)

    expected = fresh_then_trained(restart=False)
    restarted = fresh_then_trained(restart=True)
    # continuing from the first training's weights or Adam slots would not match
    np.testing.assert_allclose(restarted, expected, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="same architecture"):
        ctr.restart_as(used, ctr.build_pooling_attention_model(data.n_items, data.n_categories))
