"""The exercise checkers reject the article's code and typical mistakes, accept
the references, and report an untouched stub as "not attempted yet"."""

import keras
import numpy as np
import pytest
from keras import ops

import helpers
from helpers import checks, scratch
from helpers.layers import AttentionLayer, masked_softmax
from tests.article_code import ArticleAttentionLayer, article_full_model_build, article_q4_build


@pytest.fixture(autouse=True)
def seed():
    keras.utils.set_random_seed(0)


def rejected(check, answer):
    """The AssertionError message a checker raises for ``answer`` (fails if none)."""
    with pytest.raises(AssertionError) as info:
        check(answer)
    return str(info.value)


# ---- the source article's code is rejected, each bug named ----------------------------


def test_article_lstm_classifier_rejected_with_each_bug_named():
    message = rejected(checks.check_lstm_classifier, article_q4_build)
    assert "input_shape=" in message and "keras.Input" in message
    assert "activation is 'relu'" in message
    assert "accuracy" in message and "AUC" in message
    assert "Masking" in message


def test_article_attention_layer_rejected_with_each_bug_named():
    message = rejected(checks.check_attention_layer, ArticleAttentionLayer)
    assert "Incompatible shapes" in message and "time == features" in message
    assert "softmax" in message
    assert "`mask`" in message
    assert "not JSON-serializable" in message and "['W', 'b']" in message


def test_article_full_model_rejected_embedding_on_float_input():
    message = rejected(checks.check_full_model, article_full_model_build)
    assert "ndim=4" in message
    assert "integer ids" in message


# ---- the references pass ---------------------------------------------------------------


def test_references_accepted(capsys):
    assert checks.check_lstm_classifier(helpers.build_lstm_classifier) is True
    assert checks.check_attention_layer(AttentionLayer) is True
    assert checks.check_full_model(helpers.build_lstm_attention_model) is True
    printed = capsys.readouterr().out
    assert printed.count("✓") == 3


def test_linear_scoring_accepted():
    assert checks.check_attention_layer(lambda: AttentionLayer(scoring="linear")) is True


def test_learner_layer_defined_without_registration_is_accepted():
    """A learner's class is not registered: the checker passes it as a custom object."""

    class MyAttention(AttentionLayer):  # same code, a class keras has never seen
        pass

    assert checks.check_attention_layer(MyAttention) is True


# ---- untouched stubs are "not attempted yet" --------------------------------------------


def stub_builder(*args):
    # YOUR CODE HERE
    raise NotImplementedError()


class StubLayer(keras.layers.Layer):
    def build(self, input_shape):
        raise NotImplementedError()

    def call(self, inputs, mask=None):
        raise NotImplementedError()


class StubInitLayer(keras.layers.Layer):
    def __init__(self, **kwargs):
        raise NotImplementedError()


@pytest.mark.parametrize(
    "check, stub",
    [
        (checks.check_lstm_classifier, stub_builder),
        (checks.check_attention_layer, StubLayer),
        (checks.check_attention_layer, StubInitLayer),
        (checks.check_full_model, stub_builder),
    ],
)
def test_stub_reports_not_attempted(check, stub, capsys):
    assert check(stub) is False
    assert "not attempted yet" in capsys.readouterr().out


# ---- question 4: targeted wrong answers -------------------------------------------------


def classifier(
    timesteps,
    n_features,
    *,
    masking=True,
    activation="sigmoid",
    loss=None,
    metrics=None,
    fixed_shape=None,
    mask_value=0.0,
    units=1,
    return_sequences=False,
    stacked=None,
    swapped=False,
    lstm_activation="tanh",
    recurrent_activation="sigmoid",
):
    """A question-4 answer with one thing changed at a time.

    ``stacked``: None (one LSTM), "right" (two LSTMs, the first with
    return_sequences=True) or "flat" (two LSTMs, the first without it)."""
    shape = fixed_shape or ((n_features, timesteps) if swapped else (timesteps, n_features))
    inputs = keras.Input(shape)
    x = keras.layers.Masking(mask_value)(inputs) if masking else inputs
    if stacked:
        x = keras.layers.LSTM(8, return_sequences=stacked == "right")(x)
    x = keras.layers.LSTM(
        8,
        activation=lstm_activation,
        recurrent_activation=recurrent_activation,
        return_sequences=return_sequences,
    )(x)
    outputs = keras.layers.Dense(units, activation=activation)(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", loss or "binary_crossentropy", metrics=metrics or [keras.metrics.AUC()])
    return model


@pytest.mark.parametrize(
    "options, named",
    [
        ({}, None),
        ({"masking": False}, "Masking"),
        ({"activation": None}, "activation='sigmoid'"),
        ({"loss": "mse"}, "binary_crossentropy"),
        ({"metrics": ["accuracy"]}, "accuracy is 96%"),
        # the name is not the metric: a precision metric called "auc" is still not an AUC
        ({"metrics": [keras.metrics.Precision(name="auc")]}, "accuracy is 96%"),
        ({"metrics": [keras.metrics.AUC(curve="PR", name="pr")]}, None),  # a PR-AUC is enough
        ({"metrics": ["auc"]}, None),
        ({"fixed_shape": (12, 8)}, "build_fn(7, 3)"),
        # wrong answers that passed, or were named only by a symptom, before
        ({"return_sequences": True}, "the last LSTM has return_sequences=True"),
        ({"stacked": "flat"}, "every LSTM but the last needs return_sequences=True"),
        ({"stacked": "right"}, None),
        ({"activation": "softmax"}, "every sequence gets probability 1.0"),
        ({"activation": "softmax", "units": 2, "loss": "sparse_categorical_crossentropy"},
         "two-class softmax holds the same information as one sigmoid unit"),
        ({"loss": "categorical_crossentropy"}, "categorical cross-entropy is always 0"),
        ({"loss": "sparse_categorical_crossentropy"}, "categorical cross-entropy is always 0"),
        ({"loss": keras.losses.BinaryCrossentropy(from_logits=True)},
         "applies the sigmoid twice"),
        ({"loss": keras.losses.BinaryCrossentropy()}, None),
        ({"mask_value": -1.0}, "Masking(mask_value=-1.0) masks the steps"),
        ({"swapped": True}, "timesteps and n_features are swapped"),
        ({"lstm_activation": "relu"}, "the cell state c_t itself is never squashed"),
        ({"recurrent_activation": "relu"}, "gates must stay in [0, 1]"),
    ],
)  # fmt: skip
def test_classifier_mistakes_named(options, named):
    def answer(t, n):
        return classifier(t, n, **options)

    if named is None:
        assert checks.check_lstm_classifier(answer) is True
        return
    message = rejected(checks.check_lstm_classifier, answer)
    assert named in message
    assert "1 problem(s)" in message  # only the mistake that was made is reported


def test_masking_after_a_mask_dropping_layer_is_named():
    """Masking present, but a layer that drops the mask sits between it and the LSTM."""

    def answer(t, n):
        inputs = keras.Input((t, n))
        x = keras.layers.Masking(0.0)(inputs)
        x = keras.layers.Lambda(lambda v: v * 1.0)(x)  # Lambda does not pass masks on
        outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.LSTM(8)(x))
        model = keras.Model(inputs, outputs)
        model.compile("adam", "binary_crossentropy", metrics=[keras.metrics.AUC()])
        return model

    message = rejected(checks.check_lstm_classifier, answer)
    assert "although there is a Masking layer" in message and "1 problem(s)" in message


def test_uncompiled_classifier_rejected():
    def answer(t, n):
        inputs = keras.Input((t, n))
        x = keras.layers.LSTM(4)(keras.layers.Masking(0.0)(inputs))
        return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))

    assert "not compiled" in rejected(checks.check_lstm_classifier, answer)


def test_builder_returning_something_else_rejected():
    assert "keras.Model" in rejected(checks.check_lstm_classifier, lambda t, n: None)


# ---- question 5: targeted wrong answers -------------------------------------------------


class SoftmaxOverFeatures(AttentionLayer):
    """Scores (batch, time, 1), softmax over the last axis: every weight is 1."""

    def call(self, inputs, mask=None):
        scores = ops.matmul(ops.tanh(ops.matmul(inputs, self.W) + self.b), self.v)
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:  # masking done right, so only the axis is wrong
            weights = weights * ops.expand_dims(ops.cast(mask, weights.dtype), -1)
        return ops.sum(weights * inputs, axis=1)


class MaskIgnored(AttentionLayer):
    """Accepts a mask but never uses it."""

    def call(self, inputs, mask=None):
        return super().call(inputs, mask=None)


class AttentionIgnoringMask(MaskIgnored):
    """The same mistake under a name the §4 checker recognises as an attention layer."""


class MaskPassedOn(AttentionLayer):
    """Forgets compute_mask: the (batch, time) mask leaks to the next layer."""

    def compute_mask(self, inputs, mask=None):
        return mask


class VariablesInConfig(AttentionLayer):
    def get_config(self):
        return {**super().get_config(), "W": self.W}


class SumNotMean(AttentionLayer):
    """Un-normalised weights: exp(scores) without dividing by their sum."""

    def call(self, inputs, mask=None):
        scores = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(inputs, self.W) + self.b), self.v), -1)
        weights = ops.exp(scores)
        if mask is not None:
            weights = weights * ops.cast(mask, weights.dtype)
        return ops.sum(ops.expand_dims(weights, -1) * inputs, axis=1)


@pytest.mark.parametrize(
    "layer_cls, named",
    [
        (SoftmaxOverFeatures, "wrong axis"),
        (SumNotMean, "weights sum to 1"),
        (MaskIgnored, "values on masked steps change the output"),
        (MaskPassedOn, "compute_mask must return None"),
        (VariablesInConfig, "weight variables ['W']"),
    ],
)
def test_attention_mistakes_named(layer_cls, named):
    message = rejected(checks.check_attention_layer, layer_cls)
    assert named in message
    assert "1 problem(s)" in message


# Wrong answers that passed before: each must now be named.


class TimeShapedBias(AttentionLayer):
    """The article's crash "fixed" by shaping the bias (time, 1): one length only."""

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1], 1))
        self.b = self.add_weight(name="b", shape=(input_shape[1], 1), initializer="zeros")

    def call(self, inputs, mask=None):
        scores = ops.squeeze(ops.matmul(inputs, self.w) + self.b, -1)
        return ops.sum(inputs * ops.expand_dims(masked_softmax(scores, mask), -1), axis=1)


class PositionScores(TimeShapedBias):
    """A learned score per position added to the content score: again one length only."""

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1], 1))
        self.b = self.add_weight(name="position_score", shape=(input_shape[1],))

    def call(self, inputs, mask=None):
        scores = ops.squeeze(ops.matmul(inputs, self.w), -1) + self.b
        return ops.sum(inputs * ops.expand_dims(masked_softmax(scores, mask), -1), axis=1)


class MaskedMean(keras.layers.Layer):
    """No scores at all: the mean of the real steps. Shapes, sums and masking are right."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        time = ops.shape(inputs)[1]
        keep = ops.ones((ops.shape(inputs)[0], time)) if mask is None else ops.cast(mask, "float32")
        weights = keep / ops.maximum(ops.sum(keep, axis=1, keepdims=True), 1.0)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None


class SoftmaxOverSizeOneAxisThenMean(AttentionLayer):
    """Scores (batch, time, 1) softmaxed over the last axis (all 1), then normalised by
    their sum: weights 1/T whatever the scores."""

    def call(self, inputs, mask=None):
        scores = ops.matmul(ops.tanh(ops.matmul(inputs, self.W) + self.b), self.v)
        weights = ops.softmax(scores, axis=-1)  # (batch, time, 1), every entry 1
        if mask is not None:
            weights = weights * ops.expand_dims(ops.cast(mask, weights.dtype), -1)
        weights = weights / ops.maximum(ops.sum(weights, axis=1, keepdims=True), 1e-9)
        return ops.sum(weights * inputs, axis=1)


def _additive_scores(layer, inputs):
    return ops.squeeze(ops.matmul(ops.tanh(ops.matmul(inputs, layer.W) + layer.b), layer.v), -1)


class MinusInfMask(AttentionLayer):
    """Masked scores set to -inf: right on partly masked rows, NaN on an empty one."""

    def call(self, inputs, mask=None):
        scores = _additive_scores(self, inputs)
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -np.inf))
        return ops.sum(inputs * ops.expand_dims(ops.softmax(scores, axis=1), -1), axis=1)


class UnguardedDivision(AttentionLayer):
    """exp·mask / sum: right on partly masked rows, 0/0 on an empty one."""

    def call(self, inputs, mask=None):
        scores = _additive_scores(self, inputs)
        exp = ops.exp(scores - ops.max(scores, axis=1, keepdims=True))
        if mask is not None:
            exp = exp * ops.cast(mask, exp.dtype)
        weights = exp / ops.sum(exp, axis=1, keepdims=True)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)


class LargeNegativeOnly(AttentionLayer):
    """Masked scores set to -1e9, no multiplication by the mask: an empty row's softmax
    is uniform over its padding."""

    def call(self, inputs, mask=None):
        scores = _additive_scores(self, inputs)
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        return ops.sum(inputs * ops.expand_dims(ops.softmax(scores, axis=1), -1), axis=1)


@pytest.mark.parametrize(
    "layer_cls, named",
    [
        (TimeShapedBias, "shaped by the sequence length seen in build() (b (30, 1))"),
        (PositionScores, "shaped by the sequence length seen in build() (position_score (30,))"),
        (MaskedMean, "not attention"),
        (SoftmaxOverSizeOneAxisThenMean, "do not depend on the scores"),
        (MinusInfMask, "fully masked row (a user with no history) gives NaN"),
        (UnguardedDivision, "fully masked row (a user with no history) gives NaN"),
        (LargeNegativeOnly, "fully masked row (a user with no history) averages its padding"),
    ],
)
def test_attention_mistakes_that_used_to_pass_are_named(layer_cls, named):
    message = rejected(checks.check_attention_layer, layer_cls)
    assert named in message
    assert "1 problem(s)" in message


def test_length_message_says_what_broke():
    message = rejected(checks.check_attention_layer, TimeShapedBias)
    assert "(4, 12, 16)" in message and "keras.Input((None, 16))" in message


# Correct variants: every one must pass.


class LinearWithScoreBias(AttentionLayer):
    """Linear scoring plus one scalar bias: useless (softmax cancels it), not wrong."""

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1], 1))
        self.b = self.add_weight(name="b", shape=(1,), initializer="zeros")

    def call(self, inputs, mask=None):
        scores = ops.squeeze(ops.matmul(inputs, self.w) + self.b, -1)
        return ops.sum(inputs * ops.expand_dims(masked_softmax(scores, mask), -1), axis=1)


class KerasSoftmaxWithMask(AttentionLayer):
    """Additive scores, keras.layers.Softmax(axis=1) given the mask."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.softmax = keras.layers.Softmax(axis=1)

    def call(self, inputs, mask=None):
        weights = self.softmax(_additive_scores(self, inputs), mask=mask)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)


class RenormalisedWithFloor(AttentionLayer):
    """softmax, times the mask, renormalised with a floor: an empty row gives zeros."""

    def call(self, inputs, mask=None):
        weights = ops.softmax(_additive_scores(self, inputs), axis=1)
        if mask is not None:
            weights = weights * ops.cast(mask, weights.dtype)
            weights = weights / ops.maximum(ops.sum(weights, axis=1, keepdims=True), 1e-9)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)


class ZeroInitialisedScores(AttentionLayer):
    """v starts at zero (uniform weights until the first update): still attention."""

    def build(self, input_shape):
        super().build(input_shape)
        self.v.assign(ops.zeros_like(self.v))


@pytest.mark.parametrize(
    "layer_cls",
    [
        AttentionLayer,
        lambda: AttentionLayer(scoring="linear"),
        lambda: AttentionLayer(units=3),
        LinearWithScoreBias,
        KerasSoftmaxWithMask,
        RenormalisedWithFloor,
        ZeroInitialisedScores,
    ],
    ids=["additive", "linear", "additive-units-3", "linear-score-bias", "keras-softmax-mask",
         "renormalised-floor", "zero-init-v"],
)  # fmt: skip
def test_correct_attention_variants_accepted(layer_cls):
    assert checks.check_attention_layer(layer_cls) is True


def test_masked_softmax_is_what_the_mask_probe_accepts():
    """Sanity check of the probe itself: the reference's masked softmax zeroes padding."""
    weights = ops.convert_to_numpy(masked_softmax(ops.ones((1, 4)), ops.array([[1, 1, 0, 0]])))
    assert weights.tolist() == [[0.5, 0.5, 0.0, 0.0]]


# ---- section 4: targeted wrong answers --------------------------------------------------


def full_model(
    *,
    mask_zero=True,
    dtype="int32",
    attention=True,
    metrics=None,
    vocab=1001,
    behaviors=None,
    attention_cls=AttentionLayer,
    return_sequences=True,
    lstm_activation="tanh",
):
    """A section-4 answer with one thing changed at a time. ``behaviors``: None (item ids
    only), "concat" (a second id input, joined by Concatenate) or "plus" (joined by `+`)."""
    ids = keras.Input((15,), dtype=dtype, name="item_ids")
    x = keras.layers.Embedding(vocab, 4, mask_zero=mask_zero)(ids)
    inputs = ids
    if behaviors:
        kinds = keras.Input((15,), dtype="int32", name="behavior_ids")
        y = keras.layers.Embedding(6, 4, mask_zero=True)(kinds)
        x = keras.layers.Concatenate()([x, y]) if behaviors == "concat" else x + y
        inputs = [ids, kinds]
    if attention:
        lstm = keras.layers.LSTM(4, return_sequences=return_sequences, activation=lstm_activation)
        x = attention_cls()(lstm(x))
    else:
        x = keras.layers.LSTM(4)(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile("adam", "binary_crossentropy", metrics=metrics or [keras.metrics.AUC()])
    return model


@pytest.mark.parametrize(
    "options, named",
    [
        ({}, None),
        ({"mask_zero": False}, "mask_zero=True"),
        ({"dtype": "float32"}, "ids must be integers"),
        ({"attention": False}, "no attention layer"),
        ({"metrics": ["accuracy"]}, "accuracy is 96%"),
        # the name is not the metric: a precision metric called "auc" is still not an AUC
        ({"metrics": [keras.metrics.Precision(name="auc")]}, "accuracy is 96%"),
        ({"metrics": [keras.metrics.AUC(curve="PR", name="pr")]}, None),  # a PR-AUC is enough
        ({"metrics": ["auc"]}, None),
        # wrong answers that passed, or were named only by a symptom, before
        ({"behaviors": "concat"}, None),
        ({"behaviors": "plus"}, "the mask is lost before the attention layer"),
        ({"attention_cls": AttentionIgnoringMask}, "but it does not use it"),
        ({"vocab": 1000}, "an Embedding has input_dim=1000 but receives id 1000"),
        ({"return_sequences": False}, "the LSTM before it needs return_sequences=True"),
        ({"lstm_activation": "relu"}, "LSTM activation is 'relu'"),
    ],
)
def test_full_model_mistakes_named(options, named):
    def answer():
        return full_model(**options)

    if named is None:
        assert checks.check_full_model(answer) is True
        return
    message = rejected(checks.check_full_model, answer)
    assert named in message
    assert "1 problem(s)" in message


# ---- notebook 03: the NumPy masked softmax -----------------------------------------


def _softmax_time(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _ignores_mask(s, m):
    return _softmax_time(s)


def _multiplies_after_softmax(s, m):
    return _softmax_time(s) * m


def _no_shift(s, m):
    e = np.exp(s) * m
    return e / np.maximum(e.sum(axis=1, keepdims=True), 1e-300)


def _minus_inf_nan_row(s, m):
    return _softmax_time(np.where(m, s, -np.inf))


def _wrong_axis(s, m):
    e = np.exp(np.where(m, s, -np.inf) - 10.0)
    return e / np.maximum(e.sum(axis=0, keepdims=True), 1e-300)


def _masked_reference(s, m):
    return scratch.softmax(s, axis=1, mask=m)


def _scores_times_mask(s, m):
    return _softmax_time(s * m)


def _inverted_mask(s, m):
    return scratch.softmax(s, axis=1, mask=~m)


def _global_max(s, m):
    e = np.exp(np.where(m, s, -np.inf) - s.max()) * m
    return e / np.maximum(e.sum(axis=1, keepdims=True), 1e-300)


def _no_keepdims(s, m):
    e = np.exp(np.where(m, s, -1e9) - s.max(axis=1)) * m
    return e / np.maximum(e.sum(axis=1), 1e-300)


def _in_place(s, m):
    s[~m] = -1e9
    e = np.exp(s - s.max(axis=1, keepdims=True)) * m
    return e / np.maximum(e.sum(axis=1, keepdims=True), 1e-300)


def _large_negative_not_zeroed(s, m):
    return _softmax_time(np.where(m, s, -1e9))


def _renormalise_after_softmax(s, m):
    """Exact on paper; but a large padding score underflows the real steps' weights."""
    w = _softmax_time(s) * m
    return w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)


# correct variants


def _minus_inf_then_nan_to_num(s, m):
    return np.nan_to_num(_softmax_time(np.where(m, s, -np.inf)))


@pytest.mark.parametrize(
    "answer, named",
    [
        (_ignores_mask, "masked steps get weight"),
        (_multiplies_after_softmax, "not 1"),
        (_no_shift, "overflow"),
        (_minus_inf_nan_row, "NaN for a row with no real step"),
        (_wrong_axis, "wrong axis"),
    ],
    ids=["ignores-mask", "mask-after-softmax", "no-max-shift", "nan-row", "wrong-axis"],
)
def test_masked_softmax_mistakes_named(answer, named):
    assert named in rejected(checks.check_masked_softmax, answer)


@pytest.mark.parametrize(
    "answer, named",
    [
        (_scores_times_mask, "masked scores are set to 0 (scores * mask)"),
        (_inverted_mask, "the mask is inverted"),
        (_global_max, "Subtract each row's own max"),
        (_no_keepdims, "keepdims=True"),
        (_in_place, "changes the caller's scores in place"),
        (_large_negative_not_zeroed, "a row with no real step must give all zeros."),
        (_renormalise_after_softmax, "the scores of masked steps change the weights"),
    ],
    ids=["scores-times-mask", "inverted", "global-max", "no-keepdims", "in-place",
         "uniform-empty-row", "renormalise-after-softmax"],
)  # fmt: skip
def test_masked_softmax_mistakes_that_used_to_pass_or_were_misnamed(answer, named):
    message = rejected(checks.check_masked_softmax, answer)
    assert named in message
    assert "1 problem(s)" in message


@pytest.mark.parametrize("answer", [_masked_reference, _minus_inf_then_nan_to_num])
def test_masked_softmax_correct_variants_accepted(answer):
    assert checks.check_masked_softmax(answer) is True


def test_masked_softmax_reference_accepted_and_stub_not_attempted(capsys):
    assert checks.check_masked_softmax(_masked_reference) is True
    assert "✓" in capsys.readouterr().out

    def stub(scores, mask):
        raise NotImplementedError

    assert checks.check_masked_softmax(stub) is False
    assert checks.NOT_ATTEMPTED in capsys.readouterr().out
