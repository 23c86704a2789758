"""Building blocks with switches, for notebook 13's engineering questions.

Each interview question of notebook 13 ("why LayerNorm and not BatchNorm?", "pre-LN or
post-LN?", "why residuals?", "which positions?", "why separate Q and K?", ...) is
answered by training the *same* small model with one switch flipped. The switches live
here:

* :class:`PositionEncoding` — ``"learned"`` or ``"sinusoidal"`` vectors for each event's
  position, counted from the first event and from the last one (half the width each).
* :class:`SelfAttention` — scaled dot-product self-attention with a padding mask;
  ``shared_qk=True`` uses one projection for queries and keys (scores become symmetric).
* :class:`EncoderBlock` — one Transformer encoder block: ``norm`` in
  ``("layer", "batch", "masked_batch", "none")``, ``norm_position`` ``"pre"`` / ``"post"``,
  ``residual`` on / off, ``shared_qk``.
* :func:`encoder_tower`, :func:`lstm_tower` — a whole classifier on the id inputs of
  :meth:`helpers.sequences.BehaviorSequences.inputs`, as a functional sub-graph, and
  :func:`build_towers`, which trains several of them *in one model* (one output column
  each, the summed loss gives every tower exactly its own gradient): one graph to trace
  instead of one per variant and seed, which is what keeps a notebook of many small
  comparisons within its time budget.
* :func:`gradient_norms_per_layer` — the L2 norm of each layer's gradient on a batch.
* :func:`diagnose_auc_below_half` — tells apart flipped labels, reversed scores and a
  train/evaluation reversal when ROC-AUC is below 0.5.

Layers use ``keras.ops`` only and are registered (``package="helpers"``), so models
holding them save to ``.keras`` and load back without ``custom_objects``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from helpers.training import build_optimizer_state
from helpers.transformers import event_positions

NORMS = ("layer", "batch", "masked_batch", "none")
NORM_POSITIONS = ("pre", "post")
POSITION_MODES = ("none", "learned", "sinusoidal")
COMBINES = ("add", "concat")

__all__ = [
    "COMBINES", "NORMS", "NORM_POSITIONS", "POSITION_MODES", "EncoderBlock",
    "PositionEncoding", "SelfAttention", "build_towers", "diagnose_auc_below_half",
    "encoder_tower", "gradient_norms_per_layer", "lstm_tower", "sinusoidal_table",
]  # fmt: skip


def _one_of(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def sinusoidal_table(length: int, dim: int) -> np.ndarray:
    """Vaswani et al.'s fixed position vectors, ``(length, dim)`` float32.

    Column pairs ``(2i, 2i+1)`` hold ``sin`` and ``cos`` of ``pos / 10000^(2i/dim)``: each
    pair rotates at its own frequency, so the vector of ``pos + k`` is a fixed rotation of
    the vector of ``pos`` (a linear map that depends on ``k`` only) — relative offsets
    are easy to read from dot products, and nothing is learned.
    """
    _positive_int("length", length)
    _positive_int("dim", dim)
    if dim % 2:
        raise ValueError(f"dim must be even (sin/cos pairs), got {dim}")
    positions = np.arange(length)[:, None]
    rates = 1.0 / 10000 ** (np.arange(0, dim, 2) / dim)
    table = np.zeros((length, dim))
    table[:, 0::2] = np.sin(positions * rates)
    table[:, 1::2] = np.cos(positions * rates)
    return table.astype("float32")


@keras.saving.register_keras_serializable(package="helpers")
class PositionEncoding(keras.layers.Layer):
    """Position vectors of the real events: ``(batch, time)`` int ids → ``(batch, time, dim)``.

    Half of ``dim`` encodes the position counted from the first event (what "the session
    started with a search" needs), the other half counted back from the last event (the
    recency BST encodes as "time since the behavior"); positions are counted over real
    events (id > 0), so padding never moves them, and padding steps get zero vectors.

    Args:
        mode: ``"learned"`` (one trained table per direction, ``(max_len, dim // 2)``)
            or ``"sinusoidal"`` (:func:`sinusoidal_table`, nothing trained).
        max_len: positions beyond ``max_len - 1`` share the last one.
        dim: output width, a multiple of 4 (two halves of sin/cos pairs).
    """

    def __init__(self, mode="learned", max_len=40, dim=16, **kwargs):
        super().__init__(**kwargs)
        _one_of("mode", mode, ("learned", "sinusoidal"))
        _positive_int("max_len", max_len)
        _positive_int("dim", dim)
        if dim % 4:
            raise ValueError(f"dim must be a multiple of 4 (2 directions × sin/cos), got {dim}")
        self.mode, self.max_len, self.dim = mode, int(max_len), int(dim)

    def build(self, ids_shape):
        half = self.dim // 2
        if self.mode == "learned":
            self.tables = [
                self.add_weight(shape=(self.max_len, half), initializer="uniform",
                                name=f"from_{side}")
                for side in ("start", "end")
            ]  # fmt: skip
        else:
            fixed = sinusoidal_table(self.max_len, half)
            self.tables = [ops.convert_to_tensor(fixed), ops.convert_to_tensor(fixed)]

    def call(self, ids):
        real = ops.expand_dims(ops.cast(ops.greater(ids, 0), self.compute_dtype), -1)
        # the sinusoidal tables are float32 constants: cast to the compute dtype (mixed precision)
        halves = [
            ops.take(
                ops.cast(table, self.compute_dtype),
                event_positions(ids, self.max_len, from_end=side == "end"),
                axis=0,
            )
            for table, side in zip(self.tables, ("start", "end"), strict=True)
        ]
        return ops.concatenate(halves, axis=-1) * real

    def compute_output_shape(self, ids_shape):
        return (*ids_shape, self.dim)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "max_len": self.max_len,
                "dim": self.dim}  # fmt: skip


@keras.saving.register_keras_serializable(package="helpers")
class SelfAttention(keras.layers.Layer):
    """Scaled dot-product self-attention: ``(batch, time, dim)`` → ``(batch, time, dim)``.

    ``scores = (x W_Q)(x W_K)ᵀ / sqrt(key_dim)`` per head, softmax over the keys, weighted
    sum of ``x W_V``, output projection. With a ``(batch, time)`` mask, padding keys get
    exactly zero weight and padding queries get all-zero weights.

    Args:
        num_heads: heads; ``dim`` must be divisible by it (``key_dim = dim // num_heads``).
        shared_qk: one projection for queries and keys (``W_Q = W_K``): every score
            matrix is then symmetric, and the diagonal ``|x_i W|²`` tends to be the
            largest score of its row — each event attends to itself.

    ``call(x, mask=None, return_attention=False)``: with ``return_attention`` returns
    ``(output, weights)``, weights ``(batch, num_heads, time, time)``.
    """

    def __init__(self, num_heads=1, shared_qk=False, **kwargs):
        super().__init__(**kwargs)
        _positive_int("num_heads", num_heads)
        self.num_heads, self.shared_qk = int(num_heads), bool(shared_qk)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"SelfAttention expects (batch, time, dim), got {input_shape}")
        dim = input_shape[-1]
        if dim % self.num_heads:
            raise ValueError(f"dim={dim} is not divisible by num_heads={self.num_heads}")
        self.key_dim = dim // self.num_heads

        def dense(name):
            return self.add_weight(shape=(dim, dim), initializer="glorot_uniform", name=name)

        self.w_q = dense("query")
        self.w_k = self.w_q if self.shared_qk else dense("key")
        self.w_v, self.w_o = dense("value"), dense("output")

    def _heads(self, x):  # (batch, time, dim) → (batch, heads, time, key_dim)
        batch, time = ops.shape(x)[0], ops.shape(x)[1]
        x = ops.reshape(x, (batch, time, self.num_heads, self.key_dim))
        return ops.transpose(x, (0, 2, 1, 3))

    def call(self, x, mask=None, return_attention=False):
        # Under mixed_float16 the weights stay float32 and Keras' autocast scope does not
        # cover a compute_output_spec trace: cast explicitly (no-ops in float32).
        dtype = self.compute_dtype
        x = ops.cast(x, dtype)
        w_q, w_k, w_v, w_o = (ops.cast(w, dtype) for w in (self.w_q, self.w_k, self.w_v, self.w_o))
        q, k, v = (self._heads(ops.matmul(x, w)) for w in (w_q, w_k, w_v))
        scores = ops.einsum("bhqd,bhkd->bhqk", q, k) / np.sqrt(self.key_dim)
        if mask is None:
            weights = ops.softmax(scores, axis=-1)
        else:
            real = ops.cast(mask, "bool")
            allowed = ops.logical_and(real[:, None, :, None], real[:, None, None, :])
            # -1e9 overflows float16 to -inf (and -inf - -inf = NaN): use its own limit
            lowest = -6e4 if keras.backend.standardize_dtype(dtype) == "float16" else -1e9
            scores = ops.where(allowed, scores, ops.full_like(scores, lowest))
            # all-masked rows (padding queries) would get uniform weights: zero them
            weights = ops.softmax(scores, axis=-1) * ops.cast(allowed, scores.dtype)
        context = ops.transpose(ops.einsum("bhqk,bhkd->bhqd", weights, v), (0, 2, 1, 3))
        batch, time = ops.shape(x)[0], ops.shape(x)[1]
        output = ops.matmul(ops.reshape(context, (batch, time, -1)), w_o)
        return (output, weights) if return_attention else output

    def compute_mask(self, x, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "shared_qk": self.shared_qk}  # fmt: skip


@keras.saving.register_keras_serializable(package="helpers")
class EncoderBlock(keras.layers.Layer):
    """One Transformer encoder block with switches: ``(batch, time, dim)`` → same shape.

    Two sub-layers, self-attention and a position-wise feed-forward network ``f``, each
    wrapped as

    * ``norm_position="post"`` (the 2017 Transformer, BST): ``x = norm(x + f(x))``;
    * ``norm_position="pre"`` (GPT-2 and most deep stacks): ``x = x + f(norm(x))``;
    * ``residual=False`` drops the ``x +``: ``norm(f(x))`` / ``f(norm(x))``.

    ``norm``: ``"layer"`` (LayerNormalization: statistics over the features of each
    event, independent of the rest of the batch and of padding); ``"batch"``
    (BatchNormalization over batch *and* time, padding steps included — what a
    BatchNorm over a padded ``(batch, time, dim)`` tensor does when it is not told
    about padding); ``"masked_batch"`` (Keras 3's BatchNormalization given the mask:
    padding left out, but still statistics of the other sessions in the batch);
    ``"none"``. The block zeroes padding steps of its output, so padding carries no
    signal forward (it still enters ``"batch"`` statistics: that is the point).
    """

    def __init__(self, num_heads=1, ff_dim=None, norm="layer", norm_position="post",
                 residual=True, shared_qk=False, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        _positive_int("num_heads", num_heads)
        if ff_dim is not None:
            _positive_int("ff_dim", ff_dim)
        _one_of("norm", norm, NORMS)
        _one_of("norm_position", norm_position, NORM_POSITIONS)
        self.num_heads, self.ff_dim, self.norm = int(num_heads), ff_dim, norm
        self.norm_position, self.residual, self.shared_qk = norm_position, bool(residual), \
            bool(shared_qk)  # fmt: skip
        self.supports_masking = True

    def _make_norm(self, name):
        if self.norm == "layer":
            return keras.layers.LayerNormalization(name=name, dtype=self.dtype_policy)
        if self.norm in ("batch", "masked_batch"):
            return keras.layers.BatchNormalization(name=name, dtype=self.dtype_policy)
        return None

    def build(self, input_shape):
        dim = input_shape[-1]
        policy = self.dtype_policy  # sub-layers compute in this layer's dtype (mixed precision)
        self.attention = SelfAttention(self.num_heads, self.shared_qk, name="attention",
                                       dtype=policy)  # fmt: skip
        self.attention.build(input_shape)
        self.ff1 = keras.layers.Dense(self.ff_dim or 2 * dim, activation="relu", name="ff1",
                                      dtype=policy)  # fmt: skip
        self.ff1.build(input_shape)
        self.ff2 = keras.layers.Dense(dim, name="ff2", dtype=policy)
        self.ff2.build((*input_shape[:-1], self.ff_dim or 2 * dim))
        self.norms = [self._make_norm(f"norm{i}") for i in (1, 2)]
        for norm in self.norms:
            if norm is not None:
                norm.build(input_shape)

    def _normalize(self, norm, x, mask, training):
        if norm is None:
            return x
        if self.norm == "layer":
            return norm(x)
        return norm(x, training=training, mask=mask if self.norm == "masked_batch" else None)

    def _sublayer(self, f, norm, x, mask, training):
        if self.norm_position == "pre":
            y = f(self._normalize(norm, x, mask, training))
            return x + y if self.residual else y
        y = x + f(x) if self.residual else f(x)
        return self._normalize(norm, y, mask, training)

    def call(self, x, mask=None, training=None):
        x = self._sublayer(lambda h: self.attention(h, mask=mask), self.norms[0], x, mask,
                           training)  # fmt: skip
        x = self._sublayer(lambda h: self.ff2(self.ff1(h)), self.norms[1], x, mask, training)
        if mask is not None:
            x = x * ops.expand_dims(ops.cast(mask, x.dtype), -1)
        return x

    def compute_output_shape(self, input_shape):
        # declared, so that building a functional model does not trace `call` symbolically
        return input_shape

    def compute_mask(self, x, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "norm": self.norm, "norm_position": self.norm_position,
                "residual": self.residual, "shared_qk": self.shared_qk}  # fmt: skip


def _id_inputs():
    return {
        "item_ids": keras.Input((None,), dtype="int32", name="item_ids"),
        "behavior_ids": keras.Input((None,), dtype="int32", name="behavior_ids"),
    }


def _masked_mean(x, real):
    weights = ops.expand_dims(ops.cast(real, x.dtype), -1)
    return ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)


def encoder_tower(inputs, name, *, n_items=1001, n_behaviors=6, max_len=40, dim=16,
                  num_blocks=1, num_heads=1, norm="layer", norm_position="post",
                  residual=True, positions="learned", combine="add", shared_qk=False,
                  final_norm=None):  # fmt: skip
    """A Transformer classifier on ``inputs`` (:func:`_id_inputs`): → logit ``(batch, 1)``.

    Events are item + behavior embeddings (``dim`` each, summed). ``positions``
    (:data:`POSITION_MODES`) adds :class:`PositionEncoding` vectors (``combine="add"``,
    the usual Transformer: same width, position and content share the dimensions) or
    appends them (``"concat"``, BST: the event keeps ``dim // 2`` dimensions of its
    own and positions get the other ``dim // 2``, so the width stays ``dim``). Then
    ``num_blocks`` :class:`EncoderBlock` s, masked mean pooling, a linear logit.
    ``final_norm`` (default: True for pre-LN with a norm) normalises the last block's
    output, as pre-LN stacks do. Layer names start with ``name``.
    """
    _one_of("positions", positions, POSITION_MODES)
    _one_of("combine", combine, COMBINES)
    _positive_int("dim", dim)
    _positive_int("num_blocks", num_blocks)
    item_ids, behavior_ids = inputs.get("item_ids"), inputs["behavior_ids"]
    event_dim = dim // 2 if positions != "none" and combine == "concat" else dim
    x = keras.layers.Embedding(n_behaviors, event_dim, name=f"{name}_behaviors")(behavior_ids)
    if n_items:  # items do not enter the simulated label: n_items=0 leaves them out
        items = keras.layers.Embedding(n_items, event_dim, name=f"{name}_items")(item_ids)
        x = keras.layers.Add(name=f"{name}_events")([x, items])
    if positions != "none":
        pos_dim = dim if combine == "add" else dim - event_dim
        p = PositionEncoding(positions, max_len, pos_dim, name=f"{name}_positions")(behavior_ids)
        x = x + p if combine == "add" else ops.concatenate([x, p], axis=-1)
    real = ops.greater(behavior_ids, 0)
    for block in range(num_blocks):
        x = EncoderBlock(num_heads, norm=norm, norm_position=norm_position, residual=residual,
                         shared_qk=shared_qk, name=f"{name}_block{block + 1}")(x, mask=real)
    if final_norm is None:
        final_norm = norm_position == "pre" and norm == "layer"
    if final_norm:
        x = keras.layers.LayerNormalization(name=f"{name}_final_norm")(x)
    return keras.layers.Dense(1, name=f"{name}_logit")(_masked_mean(x, real))


def lstm_tower(inputs, name, *, n_items=1001, n_behaviors=6, item_dim=8, behavior_dim=4,
               units=16, dropout=0.0, recurrent_dropout=0.0):  # fmt: skip
    """Embedding (items ``item_dim``, behaviors ``behavior_dim``, concatenated, padding
    masked) → ``LSTM(units, dropout, recurrent_dropout)`` → logit ``(batch, 1)``.

    ``dropout`` drops input features (one mask per sequence, the same at every step);
    ``recurrent_dropout`` drops units of ``h_{t-1}`` in the recurrent product (Gal &
    Ghahramani's variational dropout).
    """
    items = keras.layers.Embedding(n_items, item_dim, mask_zero=True, name=f"{name}_items")
    behaviors = keras.layers.Embedding(n_behaviors, behavior_dim, mask_zero=True,
                                       name=f"{name}_behaviors")  # fmt: skip
    x = keras.layers.Concatenate(name=f"{name}_events")(
        [items(inputs["item_ids"]), behaviors(inputs["behavior_ids"])]
    )
    x = keras.layers.LSTM(units, dropout=dropout, recurrent_dropout=recurrent_dropout,
                          name=f"{name}_lstm")(x)  # fmt: skip
    return keras.layers.Dense(1, name=f"{name}_logit")(x)


def summed_binary_crossentropy(y_true, logits):
    """``y_true`` ``(batch,)`` or ``(batch, 1)``, ``logits`` ``(batch, towers)`` → scalar:
    the sum over towers of each tower's mean binary cross-entropy. A tower's parameters
    enter only its own term, so each gets exactly the gradient it would get alone."""
    y = ops.cast(ops.reshape(y_true, (-1, 1)), logits.dtype)
    y = ops.broadcast_to(y, ops.shape(logits))
    losses = ops.binary_crossentropy(y, logits, from_logits=True)
    return ops.sum(ops.mean(losses, axis=0))


def build_towers(towers: dict, *, kind="encoder", learning_rate=3e-3) -> keras.Model:
    """Several classifiers trained side by side: ``{name: options}`` → a compiled model.

    Inputs: the dict of :meth:`BehaviorSequences.inputs` (``behavior_ids`` only when
    every encoder tower has ``n_items=0``); output: logits
    ``(batch, len(towers))``, column ``i`` from the ``i``-th tower (``kind="encoder"``:
    :func:`encoder_tower`, ``"lstm"``: :func:`lstm_tower`, each with its ``options``).
    Loss :func:`summed_binary_crossentropy`, Adam: the towers share the batches and
    nothing else (their own weights, their own Adam moments), so repeating one option
    set under several names gives independent initialisations ("seeds").
    """
    _one_of("kind", kind, ("encoder", "lstm"))
    if not towers:
        raise ValueError("towers must name at least one {name: options}")
    inputs = _id_inputs()
    if kind == "encoder" and not any(options.get("n_items", 1001) for options in towers.values()):
        del inputs["item_ids"]  # no tower reads items: the model takes behavior ids only
    make = encoder_tower if kind == "encoder" else lstm_tower
    logits = [make(inputs, f"t{i}", **options) for i, options in enumerate(towers.values())]
    out = logits[0] if len(logits) == 1 else keras.layers.Concatenate(name="towers")(logits)
    model = keras.Model(inputs, out, name=f"{kind}_towers")
    model.tower_names = list(towers)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=summed_binary_crossentropy)
    return build_optimizer_state(model)


def gradient_norms_per_layer(model, x, y, loss_fn=None, training=True) -> dict[str, float]:
    """``{layer name: L2 norm of the gradient of the loss w.r.t. its trainable weights}``.

    One batch ``x``, ``y``; ``loss_fn(y_true, y_pred)`` defaults to the model's compiled
    loss. Layers without trainable weights are left out; a nested layer (an
    :class:`EncoderBlock`) counts as one. Uses ``tf.GradientTape`` (TensorFlow backend).
    """
    import tensorflow as tf

    loss_fn = loss_fn or model.loss
    if loss_fn is None:
        raise ValueError("the model is not compiled: pass loss_fn(y_true, y_pred)")
    layers = [layer for layer in model.layers if layer.trainable_weights]
    with tf.GradientTape() as tape:
        loss = loss_fn(ops.convert_to_tensor(y), model(x, training=training))
    grads = tape.gradient(loss, [[w.value for w in layer.trainable_weights] for layer in layers])
    norms = {}
    for layer, layer_grads in zip(layers, grads, strict=True):
        squares = [float(ops.sum(ops.square(g))) for g in layer_grads if g is not None]
        norms[layer.name] = float(np.sqrt(sum(squares)))
    return norms


def _null_auc_spread(n_pos, n_neg):
    """Standard deviation of ROC-AUC under "scores unrelated to labels" (Mann-Whitney)."""
    return float(np.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg)))


def diagnose_auc_below_half(labels, scores, *, expected_positive_rate=None, train_labels=None,
                            train_scores=None) -> dict:  # fmt: skip
    """Why is ROC-AUC below 0.5? ``labels`` ``(n,)`` 0/1, ``scores`` ``(n,)`` (higher =
    more likely positive) → a dict of the checks and a ``"verdict"``:

    * ``"not below 0.5"``;
    * ``"chance"``: within 2 standard deviations of 0.5 for unrelated scores;
    * ``"labels flipped"``: the positive rate is nearer ``1 - expected_positive_rate``
      than the expected rate (the evaluation's 0/1 are swapped);
    * ``"scores reversed"``: the same scoring code is below 0.5 on the training data
      too (a sign error: ``-logit``, ``1 - p``, ascending sort);
    * ``"train/evaluation reversal"``: clearly above 0.5 on training data, below on the
      evaluation — what the model learned means the opposite at evaluation time
      (a feature leaked the label in training, or is built differently at evaluation);
    * ``"unexplained"``: below 0.5 but none of the above could be checked.
    """
    from sklearn.metrics import roc_auc_score

    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    if labels.ndim != 1 or labels.shape != scores.shape:
        raise ValueError(f"labels and scores must be (n,) of one length, got {labels.shape} "
                         f"and {scores.shape}")  # fmt: skip
    if not set(np.unique(labels)) <= {0, 1} or len(np.unique(labels)) < 2:
        raise ValueError("labels must hold both 0 and 1 (and nothing else)")
    n_pos = int(labels.sum())
    result = {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "chance_spread": _null_auc_spread(n_pos, len(labels) - n_pos),
        "positive_rate": n_pos / len(labels),
    }
    if train_labels is not None and train_scores is not None:
        result["train_roc_auc"] = float(roc_auc_score(train_labels, train_scores))
    auc, spread = result["roc_auc"], result["chance_spread"]
    if auc >= 0.5:
        verdict = "not below 0.5"
    elif 0.5 - auc < 2 * spread:
        verdict = "chance"
    elif expected_positive_rate is not None and (
        abs(result["positive_rate"] - (1 - expected_positive_rate))
        < abs(result["positive_rate"] - expected_positive_rate)
    ):
        verdict = "labels flipped"
    elif "train_roc_auc" in result and result["train_roc_auc"] < 0.5:
        verdict = "scores reversed"
    elif "train_roc_auc" in result and result["train_roc_auc"] > 0.5 + 2 * spread:
        verdict = "train/evaluation reversal"
    else:
        verdict = "unexplained"
    result["verdict"] = verdict
    return result
