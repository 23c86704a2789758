"""`AttentionLayer`: attention pooling over time, the corrected question-5 layer.

Attention pooling turns a sequence of vectors ``h_1..h_T`` (e.g. LSTM outputs)
into one context vector: a score per step, softmax over *time*, weighted sum::

    e_t = score(h_t)                       one number per step
    a_t = exp(e_t) / sum_s exp(e_s)        over unmasked steps only
    c   = sum_t a_t * h_t

What the source article's version got wrong, and what this one does instead:

* Its bias had shape ``(features, 1)`` and was added to scores of shape
  ``(batch, time, 1)``: that only broadcasts when ``time == features`` and
  crashes otherwise. Worse, *any* bias that is the same for every step adds the
  same constant to every score, and softmax is shift-invariant
  (``softmax(e + b) == softmax(e)``), so it can never change the weights.
  The linear scoring here has no bias; the additive one has its bias *inside*
  the ``tanh``, where it does change the scores.
* It ignored Keras masks, so padding steps took part of the weight. Here masked
  steps get exactly zero weight.
* Its ``get_config`` returned the weight variables, which are not
  JSON-serializable: the model saved but ``load_model`` failed. Weights are
  saved by Keras anyway; the config holds only constructor arguments.
"""

import keras
from keras import ops

SCORINGS = ("additive", "linear")


@keras.saving.register_keras_serializable(package="helpers")
class AttentionLayer(keras.layers.Layer):
    """Attention pooling over the time axis.

    Args:
        scoring: ``"additive"`` (default): ``e_t = v · tanh(W h_t + b)``, the
            Bahdanau-style score; or ``"linear"``: ``e_t = w · h_t``, the
            article's score without its useless bias.
        units: hidden size of the additive score (default: ``features``).
        return_attention: if True, calling the layer returns
            ``(context, weights)``. Can also be passed at call time.

    Input: ``(batch, time, features)`` float, optional ``(batch, time)`` bool mask.
    Output: context ``(batch, features)``; with ``return_attention`` also
    weights ``(batch, time)``, summing to 1 over unmasked steps and exactly 0
    on masked ones (all 0 for a fully masked row, whose context is then 0).

    Mixed precision (``dtype="mixed_float16"``): the weights stay float32 and are
    cast to float16 for the computation; context and weights come out float16
    (a fully masked row still gives zeros, not NaN).

    Weights (names match ``helpers.scratch.attention_pooling``):
        additive: ``W`` ``(features, units)``, ``b`` ``(units,)``, ``v`` ``(units, 1)``;
        linear: ``w`` ``(features, 1)``.
    """

    def __init__(self, scoring="additive", units=None, return_attention=False, **kwargs):
        super().__init__(**kwargs)
        if scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS}, got {scoring!r}")
        if units is not None and (not isinstance(units, int) or units < 1):
            raise ValueError(f"units must be a positive int or None, got {units!r}")
        self.scoring = scoring
        self.units = units
        self.return_attention = bool(return_attention)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                "AttentionLayer expects input shaped (batch, time, features), "
                f"got a rank-{len(input_shape)} input of shape {tuple(input_shape)}. "
                "Use LSTM(..., return_sequences=True) before it."
            )
        features = input_shape[-1]
        if features is None:
            raise ValueError("AttentionLayer needs a known features (last) dimension.")
        if self.scoring == "linear":
            self.w = self.add_weight(name="w", shape=(features, 1), initializer="glorot_uniform")
        else:
            units = self.units or features
            self.W = self.add_weight(
                name="W", shape=(features, units), initializer="glorot_uniform"
            )
            self.b = self.add_weight(name="b", shape=(units,), initializer="zeros")
            self.v = self.add_weight(name="v", shape=(units, 1), initializer="glorot_uniform")

    def call(self, inputs, mask=None, return_attention=None):
        # Under a mixed policy (e.g. "mixed_float16") the variables stay float32 and the
        # inputs are float16. Keras' autocast scope covers __call__ but not a direct
        # compute_output_spec trace, so cast explicitly: every product is in compute_dtype.
        dtype = self.compute_dtype
        inputs = ops.cast(inputs, dtype)
        if self.scoring == "linear":
            scores = ops.matmul(inputs, ops.cast(self.w, dtype))  # (batch, time, 1)
        else:
            hidden = ops.matmul(inputs, ops.cast(self.W, dtype)) + ops.cast(self.b, dtype)
            scores = ops.matmul(ops.tanh(hidden), ops.cast(self.v, dtype))
        scores = ops.squeeze(scores, axis=-1)  # (batch, time)
        weights = masked_softmax(scores, mask)
        context = ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)  # (batch, features)
        if self.return_attention if return_attention is None else return_attention:
            return context, weights
        return context

    def compute_mask(self, inputs, mask=None):
        return None  # the time axis is pooled away, so no mask goes further

    # No compute_output_shape: Keras traces `call` symbolically, which also
    # gets the (context, weights) pair right when return_attention is a call argument.

    def get_config(self):
        config = super().get_config()
        config.update(
            scoring=self.scoring, units=self.units, return_attention=self.return_attention
        )
        return config


def masked_softmax(scores, mask=None):
    """Softmax over axis 1 of ``(batch, time)`` scores, ignoring masked steps.

    Masked scores are replaced by a very negative number *before* the max is
    taken (so a padding score can neither win the max nor underflow the real
    ones), and the result is multiplied by the mask: masked weights are exactly
    0. A fully masked row (a user with no history) gets all-zero weights, not
    NaN, in float32 and in float16 alike.
    """
    # written out rather than ops.softmax: one code path with or without a mask
    # (and no "softmax over an axis of size 1" warning for one-event sessions)
    if mask is not None:
        mask = ops.cast(mask, scores.dtype)
        # -1e9 overflows float16 to -inf (and -inf - -inf = nan): use its own limit
        lowest = -6e4 if keras.backend.standardize_dtype(scores.dtype) == "float16" else -1e9
        scores = ops.where(mask > 0, scores, ops.full_like(scores, lowest))
    exp = ops.exp(scores - ops.max(scores, axis=1, keepdims=True))
    if mask is not None:
        exp = exp * mask
    total = ops.sum(exp, axis=1, keepdims=True)
    # A real row has total >= 1 (its max step gives exp(0) = 1); only a fully masked
    # row has total 0. Divide it by 1 instead (0 / 1 = 0): a small floor such as 1e-9
    # underflows to 0 in float16 and gives 0 / 0 = NaN.
    return exp / ops.where(total > 0, total, ops.ones_like(total))
