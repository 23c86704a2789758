"""Target-attention layers: DIN's activation unit, Dice, the AUGRU cell.

DIN (Zhou et al., KDD 2018) scores every history event ``h_t`` *against the
candidate* ``c`` with a small MLP on ``[h_t, c, h_t − c, h_t ⊙ c]`` and pools the
history with those weights, so the user vector differs per candidate::

    a_t = MLP([h_t, c, h_t - c, h_t * c])        one number per event
    paper:         v = sum_t a_t * h_t            (no softmax: the sum of weights
                                                   keeps *how much* of the history matches)
    official code: v = sum_t softmax_t(a_t / sqrt(d)) * h_t   (zhougr1993/DeepInterestNetwork,
                                                   din/model.py ``attention``: masked with
                                                   -2**32 + 1, scaled by sqrt(d), softmax)

DIEN's AUGRU (Zhou et al., AAAI 2019; mouna99/dien ``VecAttGRUCell``) scales the
GRU update gate by the attention score, so events unrelated to the candidate
barely move the interest state: ``u' = a_t * u``; ``h = (1 - u') h_prev + u' h~``
(the official code writes ``u = (1 - a) u; h = u h_prev + (1 - u) h~`` with Keras'
opposite gate convention — the same thing).
"""

from __future__ import annotations

import keras
from keras import ops

from helpers.layers import masked_softmax

NORMALIZATIONS = ("none", "softmax")


def din_features(query, keys):
    """``[h, c, h − c, h ⊙ c]``: keys ``(B, T, d)``, query ``(B, d)`` → ``(B, T, 4d)``."""
    c = ops.broadcast_to(ops.expand_dims(query, 1), ops.shape(keys))
    return ops.concatenate([keys, c, keys - c, keys * c], axis=-1)


def din_pooling(query, keys, mask, score_fn, use_softmax):
    """Reference answer of notebook 10's exercise (NumPy in, NumPy-compatible out).

    query ``(B, d)``, keys ``(B, T, d)``, mask ``(B, T)`` bool (False = padding),
    ``score_fn``: ``(B, T, 4d)`` → ``(B, T, 1)``. Returns ``(pooled (B, d), weights (B, T))``:
    softmax over *time* of the scores divided by sqrt(d) (official code) when
    ``use_softmax``, else the raw scores (paper); padding weight exactly 0 either way.
    """
    keys = ops.convert_to_tensor(keys, "float32")
    query = ops.convert_to_tensor(query, "float32")
    scores = ops.squeeze(score_fn(din_features(query, keys)), -1)  # (B, T)
    mask = ops.convert_to_tensor(mask, "bool")
    if use_softmax:
        weights = masked_softmax(scores / keys.shape[-1] ** 0.5, mask)
    else:
        weights = scores * ops.cast(mask, scores.dtype)
    pooled = ops.sum(keys * ops.expand_dims(weights, -1), axis=1)
    return pooled, weights


@keras.saving.register_keras_serializable(package="helpers")
class Dice(keras.layers.Layer):
    """DIN's data-adaptive activation: ``p(x) x + (1 − p(x)) α x``.

    ``p(x) = sigmoid((x − E[x]) / sqrt(Var[x] + ε))`` with batch statistics in
    training and moving averages at inference (a BatchNormalization without
    scale/offset); ``α`` is learned per feature. PReLU's rectifying point moves
    with the data. Input ``(..., features)``; output the same shape.
    """

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.supports_masking = True
        # dtype=self.dtype_policy: under mixed_float16 the sub-layer must compute in float16
        # too (a float32 sub-layer would hand float32 back to a float16 product)
        self.norm = keras.layers.BatchNormalization(
            center=False, scale=False, epsilon=epsilon, dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.norm.build(input_shape)
        self.alpha = self.add_weight(name="alpha", shape=(input_shape[-1],), initializer="zeros")

    def call(self, inputs, training=None):
        p = ops.sigmoid(self.norm(inputs, training=training))
        return p * inputs + (1 - p) * ops.cast(self.alpha, inputs.dtype) * inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="helpers")
class DINAttention(keras.layers.Layer):
    """DIN's local activation unit and weighted sum pooling.

    Call: ``layer([query, keys], mask=key_mask)`` with query ``(B, d)``, keys
    ``(B, T, d)``, mask ``(B, T)`` (or the keys' Keras mask). Returns pooled
    ``(B, d)``; with ``return_attention=True`` also the weights ``(B, T)``.

    Args:
        hidden_units: sizes of the activation unit's MLP (official code: (80, 40)).
        activation: ``"sigmoid"`` (official code), ``"dice"`` or any Keras activation.
        normalization: ``"none"`` (paper: raw scores, masked to 0) or ``"softmax"``
            (official code: scores / sqrt(d), softmax over unmasked steps).
    """

    def __init__(
        self, hidden_units=(36,), activation="sigmoid", normalization="none",
        return_attention=False, **kwargs,
    ):
        super().__init__(**kwargs)
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}"
            )
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.normalization = normalization
        self.return_attention = bool(return_attention)
        self.supports_masking = True
        units = self.hidden_units
        policy = self.dtype_policy  # sub-layers compute in this layer's dtype (mixed precision)
        self.hidden = [
            keras.layers.Dense(u, name=f"att_{i}", dtype=policy) for i, u in enumerate(units)
        ]
        self.acts = [
            Dice(name=f"att_dice_{i}", dtype=policy)
            if activation == "dice"
            else keras.layers.Activation(activation, dtype=policy)
            for i in range(len(units))
        ]
        self.out = keras.layers.Dense(1, name="att_out", dtype=policy)

    def build(self, input_shape):
        query_shape, keys_shape = input_shape
        if len(query_shape) != 2 or len(keys_shape) != 3:
            raise ValueError(
                "DINAttention expects [query (batch, d), keys (batch, time, d)], got shapes "
                f"{tuple(query_shape)} and {tuple(keys_shape)}"
            )
        if query_shape[-1] != keys_shape[-1]:
            raise ValueError(
                f"query and keys need the same last dimension (for h - c and h * c), got "
                f"{query_shape[-1]} and {keys_shape[-1]}"
            )
        shape = (*keys_shape[:-1], 4 * keys_shape[-1])
        for dense, act in zip(self.hidden, self.acts, strict=True):
            dense.build(shape)
            shape = (*shape[:-1], dense.units)
            if isinstance(act, Dice):
                act.build(shape)
        self.out.build(shape)

    def scores(self, query, keys, training=None):
        """Raw activation-unit outputs ``(B, T)``."""
        x = din_features(query, keys)
        for dense, act in zip(self.hidden, self.acts, strict=True):
            x = act(dense(x), training=training) if isinstance(act, Dice) else act(dense(x))
        return ops.squeeze(self.out(x), -1)

    def call(self, inputs, mask=None, training=None, return_attention=None):
        # compute_output_spec traces call outside the autocast scope: cast explicitly
        query, keys = (ops.cast(t, self.compute_dtype) for t in inputs)
        key_mask = mask[1] if isinstance(mask, (list, tuple)) else mask
        scores = self.scores(query, keys, training=training)
        if self.normalization == "softmax":
            weights = masked_softmax(scores / keys.shape[-1] ** 0.5, key_mask)
        elif key_mask is not None:
            weights = scores * ops.cast(key_mask, scores.dtype)
        else:
            weights = scores
        pooled = ops.sum(keys * ops.expand_dims(weights, -1), axis=1)
        if self.return_attention if return_attention is None else return_attention:
            return pooled, weights
        return pooled

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {
            **super().get_config(), "hidden_units": list(self.hidden_units),
            "activation": self.activation, "normalization": self.normalization,
            "return_attention": self.return_attention,
        }


GRU_MODES = ("augru", "agru")


@keras.saving.register_keras_serializable(package="helpers")
class AttentionGRUCell(keras.layers.Layer):
    """GRU cell steered by an attention score (DIEN's interest evolution).

    Inputs per step: ``(batch, features + 1)`` — the interest state from the
    extractor GRU with the attention score ``a_t`` appended as the last column.
    ``mode="augru"``: the update gate is scaled, ``u' = a_t u``; ``"agru"``: the
    score replaces the gate, ``u' = a_t``. ``h_t = (1 − u') h_{t−1} + u' h~_t``.
    Use inside ``keras.layers.RNN`` (masks are handled there: padded steps keep
    the state).
    """

    def __init__(self, units, mode="augru", **kwargs):
        super().__init__(**kwargs)
        if mode not in GRU_MODES:
            raise ValueError(f"mode must be one of {GRU_MODES}, got {mode!r}")
        self.units = int(units)
        self.mode = mode
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        features = input_shape[-1] - 1
        self.kernel = self.add_weight(
            name="kernel", shape=(features, 3 * self.units), initializer="glorot_uniform"
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, 3 * self.units), initializer="orthogonal"
        )
        self.bias = self.add_weight(name="bias", shape=(3 * self.units,), initializer="zeros")

    def call(self, inputs, states, training=None):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        x, a = inputs[:, :-1], inputs[:, -1:]
        xz, xr, xh = ops.split(ops.matmul(x, self.kernel) + self.bias, 3, axis=-1)
        rk = self.recurrent_kernel
        u = self.units
        z = ops.sigmoid(xz + ops.matmul(h_prev, rk[:, :u]))
        r = ops.sigmoid(xr + ops.matmul(h_prev, rk[:, u : 2 * u]))
        candidate = ops.tanh(xh + ops.matmul(r * h_prev, rk[:, 2 * u :]))
        gate = a * z if self.mode == "augru" else a
        h = (1 - gate) * h_prev + gate * candidate
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "mode": self.mode}


@keras.saving.register_keras_serializable(package="helpers")
class AuxiliaryInterestLoss(keras.layers.Layer):
    """DIEN's auxiliary loss: the interest state at step t must tell the real next
    behavior ``e_{t+1}`` from a sampled negative ``e'_{t+1}`` (mouna99/dien
    ``auxiliary_loss``: an MLP on ``[h_t, e]``, −log p(real) − log(1 − p(negative)),
    masked). Adds ``weight × loss`` with ``add_loss`` and returns the states unchanged.

    Call: ``layer([states (B, T, u), next_real (B, T, d), next_negative (B, T, d), mask (B, T)])``.
    """

    def __init__(self, weight=1.0, hidden_units=16, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)
        self.hidden_units = int(hidden_units)
        self.supports_masking = True  # the states' mask passes through unchanged
        policy = self.dtype_policy  # sub-layers compute in this layer's dtype (mixed precision)
        self.hidden = keras.layers.Dense(
            self.hidden_units, activation="sigmoid", name="aux_1", dtype=policy
        )
        self.out = keras.layers.Dense(1, name="aux_out", dtype=policy)

    def build(self, input_shape):
        states, real = input_shape[0], input_shape[1]
        self.hidden.build((*states[:-1], states[-1] + real[-1]))
        self.out.build((*states[:-1], self.hidden_units))

    def call(self, inputs):
        states, real, negative, mask = inputs
        h, mask = states[:, :-1], ops.cast(mask[:, 1:], states.dtype)

        def logit(e):
            return ops.squeeze(self.out(self.hidden(ops.concatenate([h, e[:, 1:]], -1))), -1)

        loss = ops.softplus(-logit(real)) + ops.softplus(logit(negative))  # -log σ, -log(1-σ)
        loss = ops.sum(loss * mask) / ops.maximum(ops.sum(mask), 1.0)
        self.add_loss(self.weight * loss)
        return states

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def compute_mask(self, inputs, mask=None):
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def get_config(self):
        return {**super().get_config(), "weight": self.weight, "hidden_units": self.hidden_units}
