"""Click models over (history, candidate): the pooling baseline, DIN, DIEN-lite, SIM, ESMM.

Every model takes the dict of :meth:`helpers.ctr.simulator.CTRData.inputs`
(``hist_items``, ``hist_cats``, ``hist_behaviors`` ``(B, T)``, ``hist_age`` optional,
``cand_item``, ``cand_cat``, ``segment`` ``(B, 1)``) and outputs P(click) ``(B, 1)``.

An event is embedded as ``h = [e_item, e_cat] + e_behavior + e_age`` (``age`` =
events before the end, log2-bucketed, so recency is visible) and the candidate as
``c = [e_item, e_cat]`` with the *same* item and category tables, so that
``h − c`` and ``h ⊙ c`` compare like with like. Padding (item 0) is masked.
"""

from __future__ import annotations

import time

import keras
import numpy as np
from keras import ops

from helpers.ctr.layers import AttentionGRUCell, AuxiliaryInterestLoss, Dice, DINAttention
from helpers.ctr.simulator import N_SEGMENTS
from helpers.layers import AttentionLayer
from helpers.training import build_optimizer_state, restart_as  # noqa: F401 (restart_as: ctr's API)

AGE_BUCKETS = 12  # log2 buckets of "events ago": 0, 1, 2-3, 4-7, ... >= 1024


def age_buckets(ages):
    """``floor(log2(age + 1))`` capped at ``AGE_BUCKETS - 1`` (NumPy)."""
    return np.minimum(np.floor(np.log2(np.asarray(ages) + 1)), AGE_BUCKETS - 1).astype(np.int32)


def _inputs(history_len=None, with_negatives=False):
    names = ["hist_items", "hist_cats", "hist_behaviors", "hist_age"]
    if with_negatives:
        names += ["neg_items", "neg_cats"]
    x = {n: keras.Input((history_len,), dtype="int32", name=n) for n in names}
    for n in ("cand_item", "cand_cat", "segment"):
        x[n] = keras.Input((1,), dtype="int32", name=n)
    return x


class _Embedder:
    """Shared tables: item, category (history and candidate), behavior, age, segment."""

    def __init__(self, n_items, n_categories, dim):
        self.item = keras.layers.Embedding(n_items + 1, dim, name="item_emb")
        self.cat = keras.layers.Embedding(n_categories + 1, dim, name="cat_emb")
        self.behavior = keras.layers.Embedding(5, 2 * dim, name="behavior_emb")
        self.age = keras.layers.Embedding(AGE_BUCKETS, 2 * dim, name="age_emb")
        self.segment = keras.layers.Embedding(N_SEGMENTS, 4, name="segment_emb")

    def pair(self, items, cats):
        return ops.concatenate([self.item(items), self.cat(cats)], axis=-1)

    def __call__(self, x):
        keys = self.pair(x["hist_items"], x["hist_cats"])
        keys = keys + self.behavior(x["hist_behaviors"]) + self.age(x["hist_age"])
        mask = ops.not_equal(x["hist_items"], 0)
        query = ops.squeeze(self.pair(x["cand_item"], x["cand_cat"]), 1)
        segment = ops.squeeze(self.segment(x["segment"]), 1)
        return keys, mask, query, segment


def _head(features, hidden=(64, 32), activation="relu", name="p_click"):
    x = ops.concatenate(features, axis=-1)
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, name=f"{name}_hidden_{i}")(x)
        x = Dice()(x) if activation == "dice" else keras.layers.Activation(activation)(x)
    return keras.layers.Dense(1, activation="sigmoid", name=name)(x)


def compile_click_model(model, learning_rate=5e-3):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(name="roc_auc")],
    )
    return build_optimizer_state(model)


def build_pooling_attention_model(n_items, n_categories, dim=8, interaction=False, **_):
    """The article's query-free attention pooling + candidate embedding → MLP.

    The history's weights do not depend on the candidate: one user vector for every
    candidate, which the MLP must then compare with the candidate. ``interaction=True``
    also feeds ``u ⊙ c`` (the product DIN's head uses): a cheap late interaction.
    """
    x = _inputs()
    emb = _Embedder(n_items, n_categories, dim)
    keys, mask, query, segment = emb(x)
    user = AttentionLayer(name="pooling_attention")(keys, mask=mask)
    features = [user, query, user * query, segment] if interaction else [user, query, segment]
    out = _head(features)
    name = "pooling_attention_dot" if interaction else "pooling_attention"
    return compile_click_model(keras.Model(x, out, name=name))


def build_din_model(
    n_items, n_categories, dim=8, normalization="none", activation="sigmoid",
    mlp_activation="relu", attention_units=(36,), **_,
):
    """DIN: the history pooled with weights from the activation unit (query = candidate)."""
    x = _inputs()
    keys, mask, query, segment = _Embedder(n_items, n_categories, dim)(x)
    attention = DINAttention(
        attention_units, activation=activation, normalization=normalization,
        return_attention=True, name="din_attention",
    )
    # weights kept as the layer's second output: attention_weights_model reads them
    user, _ = attention([query, keys], mask=[None, mask])
    if normalization == "none":
        # the paper's plain weighted sum, divided by the number of real events for scale:
        # unlike a softmax or a LayerNorm, this keeps *how much* of the history matches
        count = ops.sum(ops.cast(mask, user.dtype), axis=1, keepdims=True)
        user = user / ops.maximum(count, 1.0)
    out = _head([user, query, user * query, segment], activation=mlp_activation)
    name = "din" if normalization == "none" else "din_softmax"
    return compile_click_model(keras.Model(x, out, name=name))


def build_dien_model(
    n_items, n_categories, dim=8, units=16, mode="augru", aux_weight=1.0, unroll=False,
    history_len=40, **_,
):
    """DIEN-lite: GRU interest extractor (+ auxiliary loss) → attention → AUGRU evolution.

    ``mode``: ``"augru"`` (paper), ``"agru"`` (score replaces the update gate) or
    ``"aigru"`` (states scaled by the score before a plain GRU). ``aux_weight=0``
    drops the auxiliary loss (then ``neg_items`` / ``neg_cats`` are not needed).
    ``unroll=True`` unrolls both recurrences over a fixed ``history_len`` (the graph
    grows with it); the default loop takes any history length and, on CPU, trains
    and predicts faster (measured on 10 events: about 30 % less CPU).
    """
    if mode not in ("augru", "agru", "aigru"):
        raise ValueError(f"mode must be 'augru', 'agru' or 'aigru', got {mode!r}")
    with_neg = aux_weight > 0
    x = _inputs(history_len if unroll else None, with_negatives=with_neg)
    emb = _Embedder(n_items, n_categories, dim)
    keys, mask, query, segment = emb(x)
    states = keras.layers.GRU(
        units, return_sequences=True, unroll=unroll, name="interest_extractor"
    )(
        keys, mask=mask
    )
    if with_neg:
        real = emb.pair(x["hist_items"], x["hist_cats"])
        negative = emb.pair(x["neg_items"], x["neg_cats"])
        states = AuxiliaryInterestLoss(aux_weight, name="auxiliary_loss")(
            [states, real, negative, mask]
        )
    q = keras.layers.Dense(units, name="query_projection")(query)
    _, scores = DINAttention(
        (16,), normalization="softmax", return_attention=True, name="evolution_attention"
    )([q, states], mask=[None, mask])
    a = ops.expand_dims(scores, -1)
    if mode == "aigru":
        final = keras.layers.GRU(units, name="interest_evolution")(states * a, mask=mask)
    else:
        cell = AttentionGRUCell(units, mode=mode)
        final = keras.layers.RNN(cell, unroll=unroll, name="interest_evolution")(
            ops.concatenate([states, a], -1), mask=mask
        )
    out = _head([final, q, final * q, segment])
    return compile_click_model(keras.Model(x, out, name=f"dien_{mode}"))


def build_esmm_model(n_items, n_categories, dim=8, **_):
    """ESMM: shared embeddings, a CTR tower and a CVR tower (both DIN-style);
    outputs ``ctr`` = pCTR and ``ctcvr`` = pCTR × pCVR, both trained on *all*
    impressions (click label and click-and-convert label). pCVR is never fit on
    clicked impressions alone, so it is defined on the whole impression space.
    """
    x = _inputs()
    keys, mask, query, segment = _Embedder(n_items, n_categories, dim)(x)
    towers = {}
    for task in ("ctr", "cvr"):
        user = DINAttention((36,), normalization="softmax", name=f"{task}_attention")(
            [query, keys], mask=[None, mask]
        )
        towers[task] = _head([user, query, user * query, segment], name=f"p_{task}")
    ctr = keras.layers.Identity(name="ctr")(towers["ctr"])
    ctcvr = keras.layers.Identity(name="ctcvr")(towers["ctr"] * towers["cvr"])
    model = keras.Model(x, {"ctr": ctr, "ctcvr": ctcvr}, name="esmm")
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss={"ctr": "binary_crossentropy", "ctcvr": "binary_crossentropy"},
    )
    return build_optimizer_state(model)


def esmm_cvr_model(model):
    """The pCVR tower of a model from ``build_esmm_model`` (same inputs, ``(B, 1)``)."""
    return keras.Model(model.inputs, model.get_layer("p_cvr").output)


def attention_weights_model(model, layer="din_attention"):
    """A model with the same inputs that returns the DIN layer's weights ``(B, T)``."""
    return keras.Model(model.inputs, model.get_layer(layer).output[1])


BUILDERS = {
    "pooling_attention": build_pooling_attention_model,
    "pooling_attention_dot": lambda *a, **k: build_pooling_attention_model(
        *a, interaction=True, **k
    ),
    "din": build_din_model,
    "din_softmax": lambda *a, **k: build_din_model(*a, normalization="softmax", **k),
    "din_dice": lambda *a, **k: build_din_model(*a, activation="dice", mlp_activation="dice", **k),
    "dien": build_dien_model,
}


def model_inputs(data, max_len=None, negatives_seed=None):
    """``data.inputs(...)`` plus the ``hist_age`` buckets of a full history."""
    x = data.inputs(max_len=max_len, negatives_seed=negatives_seed)
    T = x["hist_items"].shape[1]
    x["hist_age"] = np.broadcast_to(age_buckets(np.arange(T - 1, -1, -1)), x["hist_items"].shape)
    return x


def sim_hard_search(data, k=32):
    """SIM's general search unit, hard mode: per impression, the ``k`` most recent
    history events *of the candidate's category* (left-padded), with their real
    ages. Pure NumPy, like the per-user category index a serving system keeps.
    Returns model inputs over ``k`` events for the exact search unit (a DIN).
    """
    cats = data.hist_cats[data.user]  # (n, T)
    T = cats.shape[1]
    match = cats == data.cand_cat[:, None]
    # rank matches from the most recent: the k-th most recent match has rank k
    rank_from_end = np.cumsum(match[:, ::-1], axis=1)[:, ::-1]
    keep = match & (rank_from_end <= k)
    slot = k - rank_from_end  # most recent match -> slot k - 1
    rows, cols = np.nonzero(keep)
    out = {}
    for name in ("hist_items", "hist_cats", "hist_behaviors"):
        full = getattr(data, name)[data.user]
        out[name] = np.zeros((len(data), k), np.int32)
        out[name][rows, slot[rows, cols]] = full[rows, cols]
    out["hist_age"] = np.zeros((len(data), k), np.int32)
    out["hist_age"][rows, slot[rows, cols]] = age_buckets(T - 1 - cols)
    out["cand_item"] = data.cand_item[:, None]
    out["cand_cat"] = data.cand_cat[:, None]
    out["segment"] = data.segment[data.user][:, None]
    return out


def train(model, x, y, epochs=3, batch_size=1024, seed=0):
    """Fixed-epoch training (no validation pass: every model gets the same budget).
    Returns the training seconds."""
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
    return time.perf_counter() - start


def predict(model, x, batch_size=4096):
    out = model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(out, dict):
        return {k: np.asarray(v)[:, 0] for k, v in out.items()}
    return np.asarray(out)[:, 0]
