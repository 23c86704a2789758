"""Scoring one user's candidates with a trained DIN, naive vs user side computed once.

A ranking request is one user and N candidates (hundreds to thousands). DIN's
attention depends on the candidate, so the pooled interest must be computed per
candidate, but not everything must be repeated. The activation unit's first layer
is linear in ``[h, c, h − c, h ⊙ c]``::

    W [h; c; h − c; h ⊙ c] = (W_h + W_d) h  +  (W_c − W_d) c  +  W_p (h ⊙ c)

so the history's embeddings and ``(W_h + W_d) h`` (``T × units``) are computed once per
request, ``(W_c − W_d) c`` once per candidate, and only ``W_p (h ⊙ c)`` per (event,
candidate) pair. ``score_naive`` does what a model served row by row does: the
history is copied for every candidate and everything is recomputed. Both are NumPy
with the trained model's weights and give the model's own probabilities.
"""

from __future__ import annotations

import numpy as np

from helpers.ctr.models import age_buckets


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def din_parts(model):
    """The weights of a model from ``build_din_model`` (sigmoid unit, relu head)."""
    get = model.get_layer
    att = get("din_attention")
    if att.activation != "sigmoid" or len(att.hidden_units) != 1:
        raise ValueError("din_parts supports the default DIN: one sigmoid hidden layer")
    w = {
        "item": get("item_emb").get_weights()[0], "cat": get("cat_emb").get_weights()[0],
        "behavior": get("behavior_emb").get_weights()[0], "age": get("age_emb").get_weights()[0],
        "segment": get("segment_emb").get_weights()[0],
        "att_w": att.hidden[0].get_weights()[0], "att_b": att.hidden[0].get_weights()[1],
        "out_w": att.out.get_weights()[0], "out_b": att.out.get_weights()[1],
        "normalization": att.normalization,
        "head": [get(f"p_click_hidden_{i}").get_weights() for i in range(2)]
        + [get("p_click").get_weights()],
    }
    return w


def _keys(w, history):
    items, cats, behaviors = history
    T = items.shape[-1]
    ages = age_buckets(np.arange(T - 1, -1, -1))
    keys = np.concatenate([w["item"][items], w["cat"][cats]], -1)
    return keys + w["behavior"][behaviors] + w["age"][ages], items != 0


def _finish(w, pre, keys, mask, query, segment):
    """From the first layer's pre-activation ``(N, T, u)`` to P(click) ``(N,)``."""
    scores = (_sigmoid(pre) @ w["out_w"])[..., 0] + w["out_b"][0]  # (N, T)
    if w["normalization"] == "softmax":
        s = np.where(mask, scores / np.sqrt(keys.shape[-1]), -1e9)
        e = np.exp(s - s.max(1, keepdims=True)) * mask
        weights = e / np.maximum(e.sum(1, keepdims=True), 1e-9)
        pooled = np.einsum("nt,ntd->nd", weights, keys) if keys.ndim == 3 else weights @ keys
    else:
        weights = scores * mask
        pooled = (np.einsum("nt,ntd->nd", weights, keys) if keys.ndim == 3
                  else weights @ keys) / max(mask.sum(-1).max(), 1)
    x = np.concatenate(
        [pooled, query, pooled * query, np.broadcast_to(segment, (len(query), len(segment)))], -1
    )
    for kernel, bias in w["head"][:-1]:
        x = np.maximum(x @ kernel + bias, 0)
    kernel, bias = w["head"][-1]
    return _sigmoid(x @ kernel + bias)[:, 0]


def score_naive(w, history, segment, cand_items, cand_cats):
    """Every candidate gets its own copy of the history; everything recomputed."""
    n = len(cand_items)
    tiled = [np.broadcast_to(h, (n, len(h))) for h in history]
    keys, mask = _keys(w, tiled)  # (N, T, d): N copies of the same embeddings
    query = np.concatenate([w["item"][cand_items], w["cat"][cand_cats]], -1)
    c = np.broadcast_to(query[:, None, :], keys.shape)
    feats = np.concatenate([keys, c, keys - c, keys * c], -1)  # (N, T, 4d)
    pre = feats @ w["att_w"] + w["att_b"]
    return _finish(w, pre, keys, mask, query, w["segment"][segment])


def score_user_once(w, history, segment, cand_items, cand_cats):
    """The history's embeddings and its share of the first layer computed once."""
    keys, mask = _keys(w, history)  # (T, d), once per request
    d = keys.shape[-1]
    W_h, W_c, W_d, W_p = (w["att_w"][i * d:(i + 1) * d] for i in range(4))
    user_part = keys @ (W_h + W_d) + w["att_b"]  # (T, u), once per request
    query = np.concatenate([w["item"][cand_items], w["cat"][cand_cats]], -1)  # (N, d)
    cand_part = query @ (W_c - W_d)  # (N, u), once per candidate
    pair_part = (keys[None] * query[:, None, :]) @ W_p  # h ⊙ c: the only per-pair term
    pre = user_part[None] + cand_part[:, None, :] + pair_part
    return _finish(w, pre, keys, mask, query, w["segment"][segment])
