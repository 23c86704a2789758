"""Contract tests for helpers.AttentionLayer (DESIGN.md, "Contract")."""

import json

import keras
import numpy as np
import pytest

import helpers
from helpers.layers import AttentionLayer


@pytest.fixture(autouse=True)
def seed():
    keras.utils.set_random_seed(0)


def random_inputs(batch=4, time=30, features=16, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, time, features)).astype("float32")


def post_padding_mask(lengths, time):
    return np.arange(time)[None, :] < np.asarray(lengths)[:, None]


def test_public_name_is_the_layer():
    assert helpers.AttentionLayer is AttentionLayer


@pytest.mark.parametrize("scoring", ["additive", "linear"])
@pytest.mark.parametrize("time, features", [(30, 16), (16, 16), (1, 3), (7, 40)])
def test_any_time_and_features(scoring, time, features):
    # the article's bias broadcast only when time == features
    context = AttentionLayer(scoring=scoring)(random_inputs(3, time, features))
    assert tuple(context.shape) == (3, features)


@pytest.mark.parametrize("scoring", ["additive", "linear"])
def test_weights_sum_to_one_and_context_is_their_average(scoring):
    x = random_inputs()
    context, weights = AttentionLayer(scoring=scoring, return_attention=True)(x)
    weights = np.asarray(weights)
    assert weights.shape == (4, 30)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert (weights > 0).all()
    np.testing.assert_allclose(np.asarray(context), np.einsum("bt,btf->bf", weights, x), atol=1e-5)


def test_weights_are_not_uniform_after_build():
    # a layer that ignored its scores would give 1/T everywhere
    _, weights = AttentionLayer(return_attention=True)(random_inputs())
    assert np.ptp(np.asarray(weights), axis=1).min() > 1e-3


def test_return_attention_at_call_time():
    layer = AttentionLayer()
    x = random_inputs()
    context = layer(x)
    context_again, weights = layer(x, return_attention=True)
    np.testing.assert_allclose(np.asarray(context), np.asarray(context_again), atol=1e-6)
    assert tuple(weights.shape) == (4, 30)


@pytest.mark.parametrize("scoring", ["additive", "linear"])
def test_masked_steps_get_exactly_zero_weight(scoring):
    x = random_inputs()
    mask = post_padding_mask([30, 20, 5, 1], 30)
    _, weights = AttentionLayer(scoring=scoring, return_attention=True)(x, mask=mask)
    weights = np.asarray(weights)
    assert (weights[~mask] == 0.0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert weights[3, 0] == pytest.approx(1.0)


def test_masked_values_cannot_change_the_output():
    layer = AttentionLayer()
    x = random_inputs()
    mask = post_padding_mask([30, 20, 5, 1], 30)
    garbage = np.where(mask[..., None], x, 1e4 * random_inputs(seed=1))
    np.testing.assert_array_equal(
        np.asarray(layer(x, mask=mask)), np.asarray(layer(garbage, mask=mask))
    )


def test_fully_masked_row_gives_zero_weights_not_nan():
    x = random_inputs(batch=2)
    mask = post_padding_mask([30, 0], 30)
    context, weights = AttentionLayer(return_attention=True)(x, mask=mask)
    assert np.isfinite(np.asarray(context)).all()
    assert (np.asarray(weights)[1] == 0).all()
    assert (np.asarray(context)[1] == 0).all()


def test_keras_mask_from_embedding_reaches_the_layer():
    ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(ids)
    context, weights = AttentionLayer(return_attention=True)(x)
    model = keras.Model(ids, weights)
    out = model.predict(np.array([[3, 4, 0, 0], [5, 0, 0, 0]]), verbose=0)
    assert (out[:, 2:] == 0).all() and out[1, 1] == 0
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 16), (2, 3, 4, 5)])
def test_wrong_rank_is_a_clear_value_error(shape):
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        AttentionLayer()(np.zeros(shape, "float32"))


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="scoring"):
        AttentionLayer(scoring="dot")
    with pytest.raises(ValueError, match="units"):
        AttentionLayer(units=0)


def test_config_is_json_and_round_trips():
    layer = AttentionLayer(scoring="linear", units=None, name="att")
    config = json.loads(json.dumps(layer.get_config()))
    clone = AttentionLayer.from_config(config)
    assert clone.scoring == "linear" and clone.name == "att"


@pytest.mark.parametrize("scoring", ["additive", "linear"])
def test_saved_model_loads_without_custom_objects(tmp_path, scoring):
    inputs = keras.Input((None, 6))
    x = keras.layers.LSTM(5, return_sequences=True)(keras.layers.Masking(0.0)(inputs))
    outputs = keras.layers.Dense(1)(AttentionLayer(scoring=scoring, units=3)(x))
    model = keras.Model(inputs, outputs)
    x_test = random_inputs(3, 9, 6)
    x_test[1, 4:] = 0.0  # padding, masked
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(
        model.predict(x_test, verbose=0), loaded.predict(x_test, verbose=0)
    )
