"""Multi-interest user tower: K interest vectors from one sequence (ComiRec-SA).

One user vector must sit close to every item the user may want next; for a user who
buys both running shoes and baby food, one point between the two clusters is close
to neither. ComiRec-SA (Cen et al., KDD 2020; ``THUDM/ComiRec`` src/model.py,
``Model_ComiRec_SA``) computes K attention distributions over the history, each a
different weighted average of the item embeddings:

    A = softmax_time( W₂ tanh(W₁ Hᵀ) )   (K, T)     H: events + positions (T, d)
    interests = A · E                    (K, d)     E: the item embeddings

Training reads out the interest closest to the target (hard argmax, as ComiRec's
``readout``), so each interest specialises; serving retrieves with every interest
and keeps each item's best score (:func:`helpers.retrieval.towers.item_scores`).
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="helpers")
class MultiInterestPooling(keras.layers.Layer):
    """Self-attentive multi-interest pooling.

    Call: ``inputs`` ``(batch, time, d)`` (what the attention looks at: events +
    positions), ``values`` ``(batch, time, d)`` (what is averaged: the item vectors;
    default ``inputs``), optional ``mask`` ``(batch, time)`` bool → ``(batch, K, d)``.
    With ``return_attention=True`` also the weights ``(batch, K, time)``, each row
    summing to 1 over unmasked steps.
    """

    def __init__(self, n_interests=4, hidden=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n_interests, int) or n_interests < 1:
            raise ValueError(f"n_interests must be a positive int, got {n_interests!r}")
        self.n_interests, self.hidden = n_interests, hidden

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"expected inputs shaped (batch, time, d), got {input_shape}")
        d = input_shape[-1]
        hidden = self.hidden or 4 * d  # ComiRec: hidden_size * 4
        self.w1 = self.add_weight(shape=(d, hidden), initializer="glorot_uniform", name="w1")
        self.w2 = self.add_weight(shape=(hidden, self.n_interests),
                                  initializer="glorot_uniform", name="w2")  # fmt: skip

    def call(self, inputs, values=None, mask=None, return_attention=False):
        # Under mixed_float16 the weights stay float32 and Keras' autocast scope does not
        # cover a compute_output_spec trace: cast explicitly (no-ops in float32).
        dtype = self.compute_dtype
        inputs = ops.cast(inputs, dtype)
        values = inputs if values is None else ops.cast(values, dtype)
        w1, w2 = ops.cast(self.w1, dtype), ops.cast(self.w2, dtype)
        scores = ops.matmul(ops.tanh(ops.matmul(inputs, w1)), w2)  # (B, T, K)
        scores = ops.transpose(scores, (0, 2, 1))  # (B, K, T): softmax over time
        if mask is not None:
            # -1e9 overflows float16 to -inf (a fully masked row would become NaN)
            lowest = -6e4 if keras.backend.standardize_dtype(dtype) == "float16" else -1e9
            scores = ops.where(ops.expand_dims(ops.cast(mask, "bool"), 1), scores,
                               ops.full_like(scores, lowest))  # fmt: skip
        weights = ops.softmax(scores, axis=-1)
        interests = ops.matmul(weights, values)  # (B, K, d)
        return (interests, weights) if return_attention else interests

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "n_interests": self.n_interests, "hidden": self.hidden}


def best_interest(interests, item_vectors):
    """``(B, K, d)`` interests and the targets' ``(B, d)`` vectors → ``(B, d)``: for each
    row the interest with the largest dot product (the choice gets no gradient)."""
    scores = ops.sum(interests * ops.expand_dims(item_vectors, 1), axis=-1)  # (B, K)
    pick = ops.stop_gradient(ops.argmax(scores, axis=1))
    return ops.take_along_axis(interests, ops.reshape(pick, (-1, 1, 1)), axis=1)[:, 0]
