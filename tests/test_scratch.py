"""The from-scratch NumPy functions in `helpers.scratch` must equal the Keras layers."""

import numpy as np
import pytest

from helpers.scratch import attention_pooling, lstm_forward, masked_softmax, sigmoid, softmax

BATCH, TIME, FEATURES, UNITS = 3, 7, 5, 4  # all different, so a transposed weight cannot pass
ATOL = 1e-5


@pytest.fixture
def keras():
    import keras

    keras.utils.set_random_seed(0)
    return keras


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def x(rng):
    return rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")


@pytest.fixture
def post_mask():
    lengths = np.array([7, 4, 1])  # one full row, one padded, one with a single real step
    return np.arange(TIME)[None, :] < lengths[:, None]


def random_lstm(keras, rng):
    """A built Keras LSTM whose three weights (bias included) are all random and non-zero."""
    layer = keras.layers.LSTM(UNITS, return_sequences=True)
    layer.build((None, TIME, FEATURES))
    layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    return layer


def test_lstm_matches_keras(keras, rng, x):
    layer = random_lstm(keras, rng)
    kernel, recurrent_kernel, bias = layer.get_weights()
    assert kernel.shape == (FEATURES, 4 * UNITS) and recurrent_kernel.shape == (UNITS, 4 * UNITS)
    assert np.all(bias != 0)
    expected = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(lstm_forward(x, *layer.get_weights()), expected, atol=ATOL)


def test_lstm_with_mask_matches_keras(keras, rng, x, post_mask):
    layer = random_lstm(keras, rng)
    expected = keras.ops.convert_to_numpy(layer(x, mask=post_mask))
    got = lstm_forward(x, *layer.get_weights(), mask=post_mask)
    np.testing.assert_allclose(got, expected, atol=ATOL)
    # Keras repeats the last real output at padded steps (it does not write zeros there)
    np.testing.assert_array_equal(got[1, 4:], np.broadcast_to(got[1, 3], (3, UNITS)))


def test_lstm_with_pre_padding_mask_matches_keras(keras, rng, x, post_mask):
    pre_mask = post_mask[:, ::-1]  # padding first: outputs stay 0 until the first real step
    layer = random_lstm(keras, rng)
    expected = keras.ops.convert_to_numpy(layer(x, mask=pre_mask))
    got = lstm_forward(x, *layer.get_weights(), mask=pre_mask)
    np.testing.assert_allclose(got, expected, atol=ATOL)
    assert np.all(got[~pre_mask] == 0.0)


def test_lstm_with_masking_layer_matches_keras(keras, rng, x, post_mask):
    padded = np.where(post_mask[..., None], x, 0.0).astype("float32")
    layer = random_lstm(keras, rng)
    model = keras.Sequential([keras.Input((TIME, FEATURES)), keras.layers.Masking(0.0), layer])
    expected = keras.ops.convert_to_numpy(model(padded))
    got = lstm_forward(padded, *layer.get_weights(), mask=post_mask)
    np.testing.assert_allclose(got, expected, atol=ATOL)


def test_wrong_gate_order_does_not_match_keras(keras, rng, x):
    layer = random_lstm(keras, rng)
    expected = keras.ops.convert_to_numpy(layer(x))
    u = UNITS
    order = np.r_[0:u, 2 * u : 3 * u, u : 2 * u, 3 * u : 4 * u]  # i, c, f, o: f and c swapped
    swapped = [w[..., order] for w in layer.get_weights()]
    assert np.max(np.abs(lstm_forward(x, *swapped) - expected)) > 100 * ATOL


def test_gates(rng, x):
    kernel, recurrent_kernel, bias = (
        rng.normal(size=s) for s in [(FEATURES, 4 * UNITS), (UNITS, 4 * UNITS), (4 * UNITS,)]
    )
    h, g = lstm_forward(x, kernel, recurrent_kernel, bias, return_gates=True)
    assert set(g) == {"input", "forget", "candidate", "output", "cell"}
    assert all(v.shape == (BATCH, TIME, UNITS) for v in g.values())
    assert np.all((g["forget"] > 0) & (g["forget"] < 1))
    c_prev = np.concatenate([np.zeros((BATCH, 1, UNITS)), g["cell"][:, :-1]], axis=1)
    np.testing.assert_allclose(g["cell"], g["forget"] * c_prev + g["input"] * g["candidate"])
    np.testing.assert_allclose(h, g["output"] * np.tanh(g["cell"]))


def test_gates_at_masked_steps(rng, x, post_mask):
    weights = [rng.normal(size=s) for s in [(FEATURES, 16), (4, 16), (16,)]]
    h, g = lstm_forward(x, *weights, mask=post_mask, return_gates=True)
    assert np.all(np.isnan(g["forget"][~post_mask])) and not np.any(np.isnan(h))
    np.testing.assert_array_equal(g["cell"][1, 4:], np.broadcast_to(g["cell"][1, 3], (3, 4)))


def test_sigmoid_and_softmax_are_stable():
    np.testing.assert_allclose(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])
    p = softmax(np.array([[1000.0, 1000.0], [-1000.0, 0.0]]), axis=1)
    np.testing.assert_allclose(p, [[0.5, 0.5], [0.0, 1.0]])
    masked = softmax(np.ones((2, 3)), axis=1, mask=np.array([[1, 0, 1], [0, 0, 0]], bool))
    np.testing.assert_array_equal(masked, [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("scoring", ["additive", "linear"])
@pytest.mark.parametrize("use_mask", [False, True])
def test_attention_matches_keras(keras, rng, x, post_mask, scoring, use_mask):
    from helpers.layers import AttentionLayer

    layer = AttentionLayer(scoring=scoring, units=3 if scoring == "additive" else None)
    layer.build((None, TIME, FEATURES))
    shapes = [w.shape for w in layer.get_weights()]  # the documented get_weights() order
    assert shapes == ([(FEATURES, 3), (3,), (3, 1)] if scoring == "additive" else [(FEATURES, 1)])
    layer.set_weights([rng.normal(size=s).astype("float32") for s in shapes])  # b non-zero
    mask = post_mask if use_mask else None
    context, attention = (
        keras.ops.convert_to_numpy(t) for t in layer(x, mask=mask, return_attention=True)
    )
    got_context, got_attention = attention_pooling(x, layer.get_weights(), mask, scoring)
    np.testing.assert_allclose(got_attention, attention, atol=ATOL)
    np.testing.assert_allclose(got_context, context, atol=ATOL)
    np.testing.assert_allclose(got_attention.sum(axis=1), 1.0, atol=1e-12)
    if use_mask:
        assert np.all(got_attention[~post_mask] == 0.0)


def test_attention_fully_masked_row_is_zero(rng, x):
    weights = [rng.normal(size=s) for s in [(FEATURES, 3), (3,), (3, 1)]]
    mask = np.ones((BATCH, TIME), bool)
    mask[2] = False
    context, attention = attention_pooling(x, weights, mask)
    assert np.all(attention[2] == 0.0) and np.all(context[2] == 0.0)
    np.testing.assert_allclose(attention[:2].sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "shapes, message",
    [
        ([(BATCH, FEATURES), (FEATURES, 16), (4, 16), (16,)], r"x must have shape \(batch, time"),
        ([(BATCH, TIME, FEATURES), (FEATURES, 15), (4, 16), (16,)], r"\(features, 4\*units\)"),
        ([(BATCH, TIME, FEATURES), (FEATURES + 1, 16), (4, 16), (16,)], r"x's 5 features"),
        ([(BATCH, TIME, FEATURES), (FEATURES, 16), (3, 12), (16,)], r"= \(4, 16\)"),
        ([(BATCH, TIME, FEATURES), (FEATURES, 16), (4, 16), (12,)], r"bias .* = \(16,\)"),
    ],
)
def test_lstm_validation(shapes, message):
    with pytest.raises(ValueError, match=message):
        lstm_forward(*(np.zeros(s) for s in shapes))


def test_lstm_mask_validation(x):
    weights = [np.zeros(s) for s in [(FEATURES, 16), (4, 16), (16,)]]
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(3, 7\)"):
        lstm_forward(x, *weights, mask=np.ones((TIME, BATCH), bool))


def test_attention_validation(x):
    with pytest.raises(ValueError, match="h must have shape"):
        attention_pooling(x[0], [np.zeros((FEATURES, 1))], scoring="linear")
    with pytest.raises(ValueError, match=r"linear scoring needs weights \[w \(5, 1\)\]"):
        attention_pooling(x, [np.zeros((FEATURES + 1, 1))], scoring="linear")
    with pytest.raises(ValueError, match=r"additive scoring needs weights \[W \(5, units\)"):
        attention_pooling(x, [np.zeros((FEATURES, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="scoring must be"):
        attention_pooling(x, [np.zeros((FEATURES, 1))], scoring="dot")


def test_masked_softmax_is_the_answer_the_03_checker_accepts():
    from helpers.checks import check_masked_softmax

    assert check_masked_softmax(masked_softmax) is True


def test_masked_softmax_by_hand():
    scores = np.array([[0.0, np.log(3.0), 5.0], [1.0, 2.0, 3.0]])
    mask = np.array([[True, True, False], [False, False, False]])
    w = masked_softmax(scores, mask)
    np.testing.assert_allclose(w, [[0.25, 0.75, 0.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize(
    ("scores", "mask", "message"),
    [
        (np.zeros(4), np.ones(4, bool), "scores must be"),
        (np.zeros((2, 4)), np.ones((4, 2), bool), "mask must have shape"),
        (np.zeros((2, 4)), None, "mask is required"),
    ],
)
def test_masked_softmax_rejects_bad_shapes(scores, mask, message):
    with pytest.raises(ValueError, match=message):
        masked_softmax(scores, mask)
