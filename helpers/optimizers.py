"""FastTraceAdam: the update of Keras' Adam, with a training step cheaper to trace.

Keras' :class:`keras.optimizers.Adam` writes its update with about twenty
``keras.ops`` calls per variable, bias corrections included. Inside ``fit``'s
``tf.function`` every call is Python that builds graph ops, so with many small
variables (several towers trained side by side) the optimizer is a large share of
the first, tracing, step. :class:`FastTraceAdam` builds the same update with plain
TensorFlow ops, the bias-corrected step size once per step instead of once per
variable: ``m += (g − m)(1 − β₁)``, ``v += (g² − v)(1 − β₂)``,
``var −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)``. For an embedding, whose gradient
arrives as one slice per occurrence of an id, g² is summed per slice, exactly as
Keras' Adam does. The weights it trains are those of Keras' Adam (tested, dense and
embedding gradients). TensorFlow backend, default distribution strategy only.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="helpers")
class FastTraceAdam(keras.optimizers.Adam):
    """:class:`keras.optimizers.Adam` (same arguments, same update), traced with fewer
    ops per variable. ``amsgrad`` is not supported."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.amsgrad:
            raise ValueError("FastTraceAdam has no amsgrad; use keras.optimizers.Adam")
        if keras.backend.backend() != "tensorflow":
            raise ValueError("FastTraceAdam needs TensorFlow; use keras.optimizers.Adam")

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        import tensorflow as tf

        # the bias-corrected step size is the same for every variable: once per step
        step = tf.cast(self.iterations + 1, "float32")
        alpha = (tf.cast(learning_rate, "float32") * tf.sqrt(1 - tf.pow(self.beta_2, step))
                 / (1 - tf.pow(self.beta_1, step)))  # fmt: skip
        for grad, variable in zip(grads, trainable_variables, strict=True):
            if grad is None:
                continue
            index = self._get_variable_index(variable)
            variable = getattr(variable, "value", variable)  # keras.Variable → tf.Variable
            m, v = self._momentums[index].value, self._velocities[index].value
            if isinstance(grad, tf.IndexedSlices):  # an embedding: one slice per occurrence
                rows = tf.shape(variable, out_type=grad.indices.dtype)[0]
                square = tf.math.unsorted_segment_sum(tf.square(grad.values), grad.indices, rows)
                grad = tf.math.unsorted_segment_sum(grad.values, grad.indices, rows)
            else:
                square = tf.square(grad)
            # as keras.optimizers.Adam: m += (g − m)(1 − β₁), v += (g² − v)(1 − β₂),
            # var −= α m / (√v + ε), with g² summed per slice for embeddings
            m.assign_add((grad - m) * (1 - self.beta_1))
            v.assign_add((square - v) * (1 - self.beta_2))
            variable.assign_sub(m * tf.cast(alpha, variable.dtype) / (tf.sqrt(v) + self.epsilon))
