"""Contract tests for helpers.AttentionLayer (DESIGN.md, "Contract")."""

import importlib
import inspect
import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
from keras.src.testing import TestCase as KerasTestCase

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


# ---- Keras' own layer harness (keras.src.testing.TestCase.run_layer_test) ----------------
# It builds the layer, round-trips it through get_config/from_config and serialize/
# deserialize, calls it symbolically and eagerly, runs one compiled training step, and
# builds it again under the "mixed_float16" policy: float32 weights, float16 outputs
# whose dtype must match compute_output_spec.

HARNESS_CASES = {
    "additive": ({}, (2, 4), 3),
    "linear": ({"scoring": "linear"}, (2, 4), 1),
    "additive-units-3": ({"units": 3}, (2, 4), 3),
    "return-attention": ({"return_attention": True}, ((2, 4), (2, 5)), 3),
}


class TestAttentionLayerUnderKerasHarness(KerasTestCase):
    """unittest-style: Keras' TestCase is a unittest.TestCase; pytest collects it."""

    def test_run_layer_test(self):
        for case, (kwargs, output_shape, n_weights) in HARNESS_CASES.items():
            with self.subTest(case):
                self.run_layer_test(
                    AttentionLayer,
                    init_kwargs=kwargs,
                    input_shape=(2, 5, 4),
                    expected_output_shape=output_shape,
                    expected_num_trainable_weights=n_weights,
                    expected_num_non_trainable_weights=0,
                    expected_num_seed_generators=0,
                    expected_num_losses=0,
                    supports_masking=True,
                    run_training_check=True,
                    run_mixed_precision_check=True,
                )

    def test_run_layer_test_with_a_mask(self):
        # the same checks with a (batch, time) mask passed to every call, one row fully masked
        mask = np.array([[True, True, True, False, False], [False] * 5])
        self.run_layer_test(
            AttentionLayer,
            init_kwargs={"return_attention": True},
            input_shape=(2, 5, 4),
            call_kwargs={"mask": mask},
            expected_output_shape=((2, 4), (2, 5)),
            supports_masking=True,
            run_mixed_precision_check=True,
        )

    def test_run_layer_test_with_unknown_time(self):
        # time=None: the weights depend on features only
        inputs = keras.Input((None, 4))
        self.assertEqual(tuple(AttentionLayer()(inputs).shape), (None, 4))
        self.run_layer_test(
            AttentionLayer,
            init_kwargs={},
            input_data=random_inputs(2, 7, 4),
            expected_output_shape=(2, 4),
            run_mixed_precision_check=True,
        )


def test_mixed_float16_without_the_harness_is_the_float32_layer_rounded():
    """Same weights, float16 compute: float16 outputs within float16 precision of float32."""
    x = random_inputs(3, 9, 6)
    mask = post_padding_mask([9, 4, 1], 9)
    full = AttentionLayer(return_attention=True)
    half = AttentionLayer(return_attention=True, dtype="mixed_float16")
    full(x), half(x)
    half.set_weights(full.get_weights())
    assert all(w.dtype == "float32" for w in half.weights)  # variables stay float32
    (c32, w32), (c16, w16) = full(x, mask=mask), half(x, mask=mask)
    assert keras.backend.standardize_dtype(c16.dtype) == "float16"
    assert keras.backend.standardize_dtype(w16.dtype) == "float16"
    np.testing.assert_allclose(np.asarray(c16, "float32"), np.asarray(c32), atol=2e-2)
    np.testing.assert_allclose(np.asarray(w16, "float32"), np.asarray(w32), atol=2e-3)
    assert (np.asarray(w16)[~mask] == 0).all()


@pytest.mark.parametrize("dtype", ["float32", "mixed_float16"])
def test_fully_masked_row_gives_zeros_in_every_precision(dtype):
    """A user with no history: weights and context all 0 (a float16 floor of 1e-9 would
    underflow to 0 and give 0/0 = NaN)."""
    x = random_inputs(batch=2, time=6, features=3)
    mask = post_padding_mask([6, 0], 6)
    context, weights = AttentionLayer(return_attention=True, dtype=dtype)(x, mask=mask)
    context, weights = np.asarray(context, "float32"), np.asarray(weights, "float32")
    assert np.isfinite(context).all() and np.isfinite(weights).all()
    assert (weights[1] == 0).all() and (context[1] == 0).all()
    np.testing.assert_allclose(weights[0].sum(), 1.0, atol=2e-3)


def test_model_under_mixed_float16_policy_trains_and_reloads(tmp_path):
    """The layer inside a model built under the global mixed_float16 policy (notebook 05's
    follow-up): one fit step gives a finite loss, and the .keras file reloads."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        ids = keras.Input((8,), dtype="int32")
        x = keras.layers.Embedding(20, 6, mask_zero=True)(ids)
        x = AttentionLayer()(keras.layers.LSTM(6, return_sequences=True)(x))
        outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32")(x)
        model = keras.Model(ids, outputs)
        model.compile("adam", "binary_crossentropy")
        data = np.random.default_rng(0).integers(0, 20, size=(16, 8))
        data[3] = 0  # one session with no event at all
        history = model.fit(data, np.arange(16) % 2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][-1])
        model.save(tmp_path / "mixed.keras")
        loaded = keras.saving.load_model(tmp_path / "mixed.keras", safe_mode=True)
        np.testing.assert_array_equal(
            model.predict(data, verbose=0), loaded.predict(data, verbose=0)
        )
    finally:
        keras.config.set_dtype_policy(previous)


# ---- the other custom layers in helpers under the same harness ----------------------------
# The CTR, retrieval and engineering notebooks define their own layers. All pass the harness,
# the mixed_float16 check included (sub-layers take dtype=self.dtype_policy, float32 weights and
# constants are cast to compute_dtype, mask fills fit float16). A layer that cannot pass gets
# its failure as `why`: it is then marked xfail(strict=True), so fixing it fails the test.


def harness():
    """A Keras TestCase to call run_layer_test on from a plain pytest function."""
    case = KerasTestCase("run_layer_test")
    case.setUp()
    return case


def _ctr():
    return pytest.importorskip("helpers.ctr.layers")


def _multi_interest():
    return pytest.importorskip("helpers.retrieval.multi_interest")


def _engineering():
    return pytest.importorskip("helpers.engineering")


def _augru_rnn(units=4, mode="augru", dtype=None, **kwargs):
    """AttentionGRUCell is a cell: the harness runs it inside keras.layers.RNN."""
    cell = _ctr().AttentionGRUCell(units, mode=mode, dtype=dtype)
    return keras.layers.RNN(cell, dtype=dtype, **kwargs)


OTHER_LAYERS = {
    # name: (layer class factory, init kwargs, harness kwargs, why mixed precision fails)
    "Dice": (
        lambda: _ctr().Dice, {},
        {"input_shape": (4, 3), "expected_output_shape": (4, 3), "supports_masking": True},
        None,
    ),
    "DINAttention": (
        lambda: _ctr().DINAttention, {},
        {"input_shape": ((2, 4), (2, 5, 4)), "input_dtype": ("float32", "float32"),
         "expected_output_shape": (2, 4), "supports_masking": True},
        None,
    ),
    "DINAttention-softmax-dice": (
        lambda: _ctr().DINAttention, {"normalization": "softmax", "activation": "dice"},
        {"input_shape": ((2, 4), (2, 5, 4)), "input_dtype": ("float32", "float32"),
         "expected_output_shape": (2, 4)},
        None,
    ),
    "AttentionGRUCell-in-RNN": (
        lambda: _augru_rnn, {}, {"input_shape": (2, 5, 4), "expected_output_shape": (2, 4)},
        None,
    ),
    "AttentionGRUCell-agru-in-RNN": (
        lambda: _augru_rnn, {"mode": "agru"},
        {"input_shape": (2, 5, 4), "expected_output_shape": (2, 4)}, None,
    ),
    "AuxiliaryInterestLoss": (
        lambda: _ctr().AuxiliaryInterestLoss, {},
        {"input_shape": ((2, 5, 3), (2, 5, 4), (2, 5, 4), (2, 5)),
         "input_dtype": ("float32",) * 4, "expected_output_shape": (2, 5, 3),
         "expected_num_losses": 1},
        None,
    ),
    "MultiInterestPooling": (
        lambda: _multi_interest().MultiInterestPooling, {"n_interests": 2},
        {"input_shape": (2, 5, 4), "expected_output_shape": (2, 2, 4)},
        None,
    ),
    "PositionEncoding": (
        lambda: _engineering().PositionEncoding, {"max_len": 6, "dim": 8},
        {"input_shape": (2, 5), "input_dtype": "int32", "expected_output_shape": (2, 5, 8)},
        None,
    ),
    "PositionEncoding-sinusoidal": (
        lambda: _engineering().PositionEncoding, {"mode": "sinusoidal", "max_len": 6, "dim": 8},
        {"input_shape": (2, 5), "input_dtype": "int32", "expected_output_shape": (2, 5, 8)},
        None,
    ),
    "SelfAttention": (
        lambda: _engineering().SelfAttention, {"num_heads": 2},
        {"input_shape": (2, 5, 4), "expected_output_shape": (2, 5, 4), "supports_masking": True},
        None,
    ),
    "EncoderBlock": (
        lambda: _engineering().EncoderBlock, {},
        {"input_shape": (2, 5, 4), "expected_output_shape": (2, 5, 4), "supports_masking": True},
        None,
    ),
    "EncoderBlock-pre-batch": (
        lambda: _engineering().EncoderBlock, {"norm": "batch", "norm_position": "pre"},
        {"input_shape": (2, 5, 4), "expected_output_shape": (2, 5, 4)},
        None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(OTHER_LAYERS))
def test_other_layers_pass_the_harness_in_float32(name):
    factory, init_kwargs, kwargs, _ = OTHER_LAYERS[name]
    harness().run_layer_test(
        factory(), init_kwargs=init_kwargs, run_training_check=True,
        run_mixed_precision_check=False, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=why)) if why else name
        for name, (_, _, _, why) in OTHER_LAYERS.items()
    ],
)
def test_other_layers_pass_the_harness_mixed_precision_check(name):
    factory, init_kwargs, kwargs, _ = OTHER_LAYERS[name]
    harness().run_layer_test(
        factory(), init_kwargs=init_kwargs, run_training_check=False,
        run_mixed_precision_check=True, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize("name", ["MultiInterestPooling", "SelfAttention"])
def test_fully_masked_rows_stay_finite_in_float16(name):
    """The mask fill must fit float16 (-1e9 overflows to -inf, and -inf - -inf = NaN)."""
    layer = (
        _multi_interest().MultiInterestPooling(n_interests=2, dtype="mixed_float16")
        if name == "MultiInterestPooling"
        else _engineering().SelfAttention(num_heads=2, dtype="mixed_float16")
    )
    x = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")
    mask = np.ones((3, 5), bool)
    mask[1] = False  # a session with no real event
    mask[2, 3:] = False
    out = keras.ops.convert_to_numpy(layer(x, mask=mask))
    assert out.dtype == np.float16
    assert np.isfinite(out).all()


# ---- every custom Keras layer in helpers gets the harness ---------------------------------

HARNESSED = {  # layers run through run_layer_test above
    "helpers.layers.AttentionLayer",
    "helpers.ctr.layers.Dice",
    "helpers.ctr.layers.DINAttention",
    "helpers.ctr.layers.AttentionGRUCell",
    "helpers.ctr.layers.AuxiliaryInterestLoss",
    "helpers.retrieval.multi_interest.MultiInterestPooling",
    "helpers.engineering.PositionEncoding",
    "helpers.engineering.SelfAttention",
    "helpers.engineering.EncoderBlock",
}


def test_every_custom_layer_in_helpers_is_under_the_harness():
    """A new custom layer in helpers must be added to the harness tests (and HARNESSED).
    Subclassed keras.Model classes (e.g. a two-tower model) are models, not layers."""
    root = Path(helpers.__file__).parent
    found = set()
    for path in sorted(root.rglob("*.py")):
        if "keras" not in path.read_text():
            continue
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, keras.layers.Layer)
                and not issubclass(cls, keras.Model)
                and cls.__module__ == name
            ):
                found.add(f"{name}.{cls.__qualname__}")
    # classes defined inside functions are invisible to getmembers: look at the source too
    pattern = r"^\s*class (\w+)\((?:keras\.layers\.)?Layer\)"
    defined = {
        m for path in root.rglob("*.py") for m in re.findall(pattern, path.read_text(), re.M)
    }
    assert {name.rsplit(".", 1)[1] for name in found} >= defined
    assert "helpers.layers.AttentionLayer" in found
    assert found <= HARNESSED, f"custom layers without the Keras harness: {found - HARNESSED}"
