"""Contract tests for the model builders in helpers.models."""

import keras
import numpy as np
import pytest

import helpers
from helpers import models
from helpers.data import make_dataset
from helpers.sequences import N_FEATURES


@pytest.fixture(autouse=True)
def seed():
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="module")
def small_data():
    return make_dataset(300, seed=3)


def with_extra_padding(array, extra):
    """Append ``extra`` padding steps (zeros) after the last step."""
    pad_width = [(0, 0), (0, extra)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, pad_width)


def test_public_names():
    assert helpers.build_lstm_classifier is models.build_lstm_classifier
    assert helpers.build_lstm_attention_model is models.build_lstm_attention_model


# ---- question 4: build_lstm_classifier -------------------------------------------------


def test_classifier_shapes_and_compile():
    model = helpers.build_lstm_classifier(20, N_FEATURES)
    assert tuple(model.input.shape) == (None, 20, N_FEATURES)
    assert tuple(model.output.shape) == (None, 1)
    assert model.compiled and model.loss == "binary_crossentropy"
    # Adam's moments exist before training (made inside the first traced step, they
    # would make TensorFlow trace that step twice)
    assert model.optimizer.built and len(model.optimizer.variables) > 2
    lstm = model.get_layer("lstm")
    assert lstm.activation is keras.activations.tanh  # keeps the cuDNN path


def test_classifier_prediction_ignores_padding(small_data):
    model = helpers.build_lstm_classifier(None, N_FEATURES)
    x = small_data.features[:16]
    np.testing.assert_allclose(
        model.predict(x, verbose=0), model.predict(with_extra_padding(x, 9), verbose=0), atol=1e-6
    )


def test_classifier_learns_on_the_simulator():
    data = make_dataset(3000, seed=1)
    model = helpers.build_lstm_classifier(None, N_FEATURES)
    history = model.fit(data.features, data.labels, epochs=3, batch_size=128, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) >= {"loss", "roc_auc", "pr_auc"}


# ---- section 4: build_lstm_attention_model ---------------------------------------------


def test_full_model_defaults_and_output(small_data):
    model = helpers.build_lstm_attention_model()
    assert tuple(model.output.shape) == (None, 1)
    assert model.compiled
    probs = model.predict(small_data.inputs(), verbose=0)
    assert probs.shape == (len(small_data), 1)
    assert ((probs >= 0) & (probs <= 1)).all()


def test_full_model_padding_never_changes_a_prediction(small_data):
    model = helpers.build_lstm_attention_model()
    inputs = small_data.inputs()
    padded = {name: with_extra_padding(ids, 15) for name, ids in inputs.items()}
    np.testing.assert_allclose(
        model.predict(inputs, verbose=0), model.predict(padded, verbose=0), atol=1e-6
    )
    # and the ids written into padding positions do not matter either: the mask comes
    # from behavior_ids *and* item_ids, so zero both (that is what padding is)
    trimmed = {name: ids[:, :10] for name, ids in inputs.items()}
    short = small_data.lengths <= 10
    np.testing.assert_allclose(
        model.predict(inputs, verbose=0)[short],
        model.predict(trimmed, verbose=0)[short],
        atol=1e-6,
    )


def test_fixed_max_len_option(small_data):
    model = helpers.build_lstm_attention_model(max_len=small_data.max_len)
    assert tuple(model.input["item_ids"].shape) == (None, small_data.max_len)


def test_explainer_shares_weights_and_masks_padding(small_data):
    model, explainer = helpers.build_lstm_attention_model(return_attention=True)
    probs, weights = explainer.predict(small_data.inputs(), verbose=0)
    np.testing.assert_allclose(probs, model.predict(small_data.inputs(), verbose=0), atol=1e-6)
    real = small_data.behavior_ids > 0
    assert (weights[~real] == 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)


def test_full_model_save_load_and_explain(tmp_path, small_data):
    model = helpers.build_lstm_attention_model()
    model.fit(small_data.inputs(), small_data.labels, epochs=1, batch_size=64, verbose=0)
    path = tmp_path / "full.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    expected = model.predict(small_data.inputs(), verbose=0)
    np.testing.assert_array_equal(expected, loaded.predict(small_data.inputs(), verbose=0))
    probs, _ = models.attention_explainer(loaded).predict(small_data.inputs(), verbose=0)
    np.testing.assert_allclose(probs, expected, atol=1e-6)


def test_last_state_baseline_ignores_padding(small_data):
    model = models.build_lstm_last_state_model()
    inputs = small_data.inputs()
    padded = {name: with_extra_padding(ids, 5) for name, ids in inputs.items()}
    np.testing.assert_allclose(
        model.predict(inputs, verbose=0), model.predict(padded, verbose=0), atol=1e-6
    )


# ---- order-blind baseline --------------------------------------------------------------


def test_count_features_are_order_blind_and_correct(small_data):
    features = models.count_features(small_data)
    assert features.shape == (len(small_data), len(models.COUNT_FEATURE_NAMES))
    row = 0
    length = small_data.lengths[row]
    behaviors = small_data.behavior_ids[row, :length]
    items = small_data.item_ids[row, :length]
    expected_counts = [np.sum(behaviors == b) for b in range(1, 6)]
    np.testing.assert_array_equal(features[row, :5], expected_counts)
    assert features[row, 5] == length
    assert features[row, 6] == len(set(items.tolist()))

    # reversing every sequence's real events changes nothing
    reversed_data = small_data.subset(slice(None))
    for name in ("behavior_ids", "item_ids", "category_ids", "time_gaps"):
        array = getattr(reversed_data, name).copy()
        for i, n in enumerate(small_data.lengths):
            array[i, :n] = array[i, :n][::-1]
        setattr(reversed_data, name, array)
    np.testing.assert_allclose(models.count_features(reversed_data), features, rtol=1e-6)


@pytest.mark.parametrize("kind", ["logistic", "boosting"])
def test_order_blind_baseline_fits(kind, small_data):
    baseline = models.build_order_blind_baseline(kind)
    baseline.fit(models.count_features(small_data), small_data.labels)
    probs = baseline.predict_proba(models.count_features(small_data))[:, 1]
    assert probs.shape == (len(small_data),)


def test_unknown_baseline_kind():
    with pytest.raises(ValueError, match="logistic"):
        models.build_order_blind_baseline("forest")


def test_explainer_refuses_an_attention_layer_without_weights_output():
    ids = keras.Input((None,), dtype="int32", name="item_ids")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(ids)
    context = helpers.AttentionLayer(name="attention")(
        keras.layers.LSTM(4, return_sequences=True)(x)
    )
    model = keras.Model(ids, keras.layers.Dense(1, activation="sigmoid")(context))
    with pytest.raises(ValueError, match="return_attention=True"):
        models.attention_explainer(model)
