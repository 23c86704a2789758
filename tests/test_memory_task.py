"""helpers.memory_task: the N-steps-back task and the gradient-by-lag probe."""

import numpy as np
import pytest

from helpers.memory_task import CART_COLUMN, gradient_norms_by_lag, make_memory_task
from helpers.sequences import BEHAVIORS


@pytest.mark.parametrize("lag", [0, 1, 7])
def test_label_is_exactly_the_add_to_cart_lag_steps_before_the_end(lag):
    x, y = make_memory_task(500, lag, lead=3, seed=1)
    assert x.shape == (500, 3 + 1 + lag, len(BEHAVIORS)) and x.dtype == np.float32
    assert y.shape == (500,) and y.dtype == np.int32
    np.testing.assert_array_equal(x.sum(axis=2), 1.0)  # one behavior per event
    np.testing.assert_array_equal(x[:, -1 - lag, CART_COLUMN], y)
    others = np.delete(x[:, :, CART_COLUMN], x.shape[1] - 1 - lag, axis=1)
    assert others.sum() == 0, "add-to-cart must appear nowhere else"
    assert 0.4 < y.mean() < 0.6
    # the other positions are noise: several behavior types occur there
    assert len(np.unique(x[:, :, :].argmax(axis=2))) == 5


def test_same_seed_same_bytes_other_seed_other_data():
    a, b, c = (make_memory_task(50, 4, seed=s) for s in (0, 0, 1))
    assert a[0].tobytes() == b[0].tobytes() and np.array_equal(a[1], b[1])
    assert a[0].tobytes() != c[0].tobytes()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"lag": -1}, "lag"), ({"lag": 2.5}, "lag"), ({"lag": 3, "lead": -1}, "lead"),
     ({"lag": 3, "positive_rate": 1.0}, "positive_rate")],
)  # fmt: skip
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_memory_task(10, **kwargs)


def linear_rnn(keras, a, features):
    """SimpleRNN with h_t = a * h_{t-1} + x_t: so d h_T / d x_{T-1-n} = a**n * I exactly."""
    layer = keras.layers.SimpleRNN(features, activation=None)
    layer.build((None, None, features))
    layer.set_weights(
        [np.eye(features), a * np.eye(features), np.zeros(features)]
    )  # kernel, recurrent_kernel, bias
    return layer


def test_gradient_norms_match_the_closed_form_of_a_linear_rnn():
    keras = pytest.importorskip("keras")
    features, time, a = 3, 9, 0.6
    x = np.random.default_rng(0).normal(size=(4, time, features))
    norms = gradient_norms_by_lag(linear_rnn(keras, a, features), x)
    assert norms.shape == (time,)
    expected = a ** np.arange(time) * np.sqrt(features)  # Frobenius norm of a**n * I
    np.testing.assert_allclose(norms, expected, rtol=1e-5)


def test_gradient_norms_separate_the_samples_of_a_batch():
    """A nonlinear layer: each sample's Jacobian must come from that sample alone."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    layer = keras.layers.LSTM(3)
    x = np.random.default_rng(1).normal(size=(5, 6, 2)).astype("float32")
    together = gradient_norms_by_lag(layer, x)
    one_by_one = np.mean([gradient_norms_by_lag(layer, x[i : i + 1]) for i in range(5)], axis=0)
    np.testing.assert_allclose(together, one_by_one, rtol=1e-4)
    assert together[0] > together[-1]  # recent events matter more at initialisation


def test_gradient_norms_reject_sequence_outputs_and_bad_shapes():
    keras = pytest.importorskip("keras")
    with pytest.raises(ValueError, match="return_sequences=False"):
        gradient_norms_by_lag(keras.layers.LSTM(2, return_sequences=True), np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        gradient_norms_by_lag(keras.layers.LSTM(2), np.zeros((3, 2)))


def test_gradient_norms_of_layers_sharing_a_configuration_stay_their_own():
    """The compiled pass is shared by layers of one configuration: each call must still
    use its own layer's weights, leave them unchanged and draw no random numbers."""
    keras = pytest.importorskip("keras")
    features, time = 3, 7
    x = np.random.default_rng(2).normal(size=(2, time, features))
    for a in (0.6, 0.3, 0.9):  # three layers, one configuration, one shape
        layer = linear_rnn(keras, a, features)
        before = [w.copy() for w in layer.get_weights()]
        keras.utils.set_random_seed(5)
        norms = gradient_norms_by_lag(layer, x)
        drawn_after = keras.random.uniform((3,))
        keras.utils.set_random_seed(5)
        np.testing.assert_array_equal(drawn_after, keras.random.uniform((3,)))
        np.testing.assert_allclose(norms, a ** np.arange(time) * np.sqrt(features), rtol=1e-5)
        for w0, w1 in zip(before, layer.get_weights(), strict=True):
            np.testing.assert_array_equal(w0, w1)


def test_gradient_norms_compiled_equal_an_eager_tape():
    """The compiled pass gives the eager GradientTape's Jacobian on a nonlinear LSTM."""
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    keras.utils.set_random_seed(3)
    layer = keras.layers.LSTM(4)
    x = np.random.default_rng(4).normal(size=(3, 5, 2)).astype("float32")
    norms = gradient_norms_by_lag(layer, x)
    expected = []
    for sample in x:  # one sample, one unit at a time: an independent computation
        per_unit = []
        for k in range(4):
            inputs = tf.constant(sample[None])
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                out = layer(inputs)[0, k]
            per_unit.append(tape.gradient(out, inputs).numpy()[0])  # (time, features)
        jac = np.stack(per_unit)  # (units, time, features)
        expected.append(np.sqrt(np.square(jac.astype(np.float64)).sum(axis=(0, 2)))[::-1])
    np.testing.assert_allclose(norms, np.mean(expected, axis=0), rtol=1e-5)


def test_gradient_norms_reject_returned_states():
    keras = pytest.importorskip("keras")
    with pytest.raises(ValueError, match="return_state=False"):
        gradient_norms_by_lag(keras.layers.LSTM(2, return_state=True), np.zeros((1, 3, 2)))
