"""Exercise checkers of notebooks 10 and 11 (protocol: :mod:`helpers.feedback`).

* :func:`check_gauc` — ``fn(labels, scores, groups) -> float``, the DIN paper's GAUC
  (impression-weighted, one-class groups left out, ``ValueError`` when none is left);
* :func:`check_din_pooling` — ``fn(query, keys, mask, score_fn, use_softmax)``
  ``-> (pooled, weights)``, DIN's activation unit and weighted sum pooling;
* :func:`check_recalibrate` — ``fn(probabilities, negative_keep_rate) -> probabilities``.

Each compares the answer with the reference *and* with the plausible wrong answers,
so a wrong answer is named ("a plain mean over users", "softmax over the wrong axis").
Inputs are NumPy arrays; NumPy or ``keras.ops`` answers both pass.
"""

from __future__ import annotations

import numpy as np

from helpers.feedback import Crash, run_checker, run_probe

TOL = 1e-6


def _float(value):
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError):
        return None


# --- GAUC -------------------------------------------------------------------
def gauc_probe_data(seed=0):
    """Labels, scores and *interleaved* groups where every wrong variant differs."""
    rng = np.random.default_rng(seed)
    sizes = [12, 3, 6, 4, 8]
    groups = np.repeat(np.arange(len(sizes)) * 7 + 3, sizes)
    labels = np.concatenate([rng.permutation([1] * 4 + [0] * 8), [1, 0, 0],
                             rng.permutation([1] * 3 + [0] * 3), [0, 0, 0, 0],
                             rng.permutation([1] * 2 + [0] * 6)])
    # each group has its own offset: pooled ROC-AUC mixes users' score levels
    offset = np.repeat(rng.normal(0, 1.5, len(sizes)), sizes)
    scores = labels * 0.8 + rng.normal(0, 0.8, len(labels)) + offset
    order = rng.permutation(len(labels))  # users' rows interleaved, as in a real log
    return labels[order], scores[order], groups[order]


def gauc_variants(labels, scores, groups):
    """The reference and the usual wrong answers, by name."""
    from sklearn.metrics import roc_auc_score

    keys = np.unique(groups)
    aucs, sizes, positives, one_class = [], [], [], []
    for g in keys:
        y, s = labels[groups == g], scores[groups == g]
        both = 0 < y.sum() < len(y)
        aucs.append(roc_auc_score(y, s) if both else 0.5)
        sizes.append(len(y))
        positives.append(y.sum())
        one_class.append(not both)
    aucs, sizes, positives = map(np.asarray, (aucs, sizes, positives))
    ok = ~np.asarray(one_class)
    # consecutive runs of equal group ids (itertools.groupby on unsorted rows)
    runs = np.split(np.arange(len(groups)), np.nonzero(np.diff(groups))[0] + 1)
    run_aucs = [(roc_auc_score(labels[r], scores[r]), len(r)) for r in runs
                if 0 < labels[r].sum() < len(r)]
    return {
        "reference": float(np.sum(aucs[ok] * sizes[ok]) / sizes[ok].sum()),
        "plain mean over users": float(aucs[ok].mean()),
        "pooled ROC-AUC": float(roc_auc_score(labels, scores)),
        "one-class users counted as 0.5": float(np.sum(aucs * sizes) / sizes.sum()),
        "one-class users in the denominator": float(np.sum((aucs * sizes)[ok]) / sizes.sum()),
        "weighted by clicks": float(np.sum(aucs[ok] * positives[ok]) / positives[ok].sum()),
        "unsorted groupby": float(sum(a * n for a, n in run_aucs) / sum(n for _, n in run_aucs)),
    }


GAUC_MISTAKES = {
    "plain mean over users": (
        "a plain mean over users: the DIN paper weights each user's AUC by the user's "
        "number of impressions (np.average(aucs, weights=counts))."
    ),
    "pooled ROC-AUC": (
        "this is the ROC-AUC over all impressions pooled together: compute one ROC-AUC "
        "*per user* (group) and average them."
    ),
    "one-class users counted as 0.5": (
        "users with one class only were counted (as 0.5): their AUC is undefined — skip "
        "them, weight and all."
    ),
    "one-class users in the denominator": (
        "one-class users' impressions are still in the denominator: leave those users out "
        "of the weights too."
    ),
    "weighted by clicks": (
        "weighted by clicks: the paper's weight is the number of impressions of the user."
    ),
    "unsorted groupby": (
        "a user's rows are not contiguous in a real log: itertools.groupby on unsorted rows "
        "splits users into pieces. Select rows with groups == g (or sort first)."
    ),
}


def check_gauc(fn):
    """Check ``fn(labels, scores, groups) -> float`` against the DIN paper's GAUC."""

    def body(mistakes):
        labels, scores, groups = gauc_probe_data()
        variants = gauc_variants(labels, scores, groups)
        try:
            value = run_probe(lambda: fn(labels, scores, groups), "gauc on 5 users")
        except Crash as crash:  # name the likely cause
            if "one class" in str(crash).lower():
                mistakes.append(
                    "roc_auc_score raised on a user with one class only: skip users whose "
                    "labels are all 0 or all 1 (their AUC is undefined)."
                )
                return None
            raise
        value = _float(value)
        if value is None:
            mistakes.append("the answer must be one number (a float).")
        elif np.isnan(value):
            mistakes.append(
                "the result is NaN: a user with one class only has an undefined AUC — skip "
                "such users instead of averaging a NaN in."
            )
        elif abs(value - variants["reference"]) > TOL:
            named = [GAUC_MISTAKES[k] for k, v in variants.items()
                     if k != "reference" and abs(value - v) < TOL]
            mistakes.extend(named or [
                f"gauc = {value:.6f}, expected {variants['reference']:.6f}: the "
                "impression-weighted mean of per-user ROC-AUC over users with both classes."
            ])
        # no user with both classes: undefined
        none_labels = np.array([1, 1, 0, 0])
        try:
            result = run_probe(
                lambda: fn(none_labels, np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 1, 2, 2])),
                "gauc with no user having both classes",
            )
        except Crash as error:
            if not isinstance(error.error, ValueError):
                mistakes.append(
                    f"with no user having both classes it raised {error}; raise ValueError "
                    "saying GAUC is undefined."
                )
        else:
            mistakes.append(
                f"with no user having both classes it returned {result!r}: GAUC is undefined "
                "then — raise ValueError."
            )
        return "per-user ROC-AUC, impression-weighted, one-class users skipped."

    return run_checker("check_gauc", body)


# --- DIN activation unit -----------------------------------------------------
def din_probe(seed=0, batch=3, time=6, dim=4):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(batch, dim)).astype("float32")
    keys = rng.normal(size=(batch, time, dim)).astype("float32")
    mask = np.ones((batch, time), bool)
    mask[0, :2] = False  # left padding, as in the simulator
    mask[2, :4] = False
    keys[~mask] = rng.normal(5, 1, size=(int((~mask).sum()), dim))  # loud padding
    w1 = rng.normal(size=(4 * dim, 8)).astype("float32") * 0.5
    w2 = rng.normal(size=(8, 1)).astype("float32")
    seen = {}

    def score_fn(features):
        from keras import ops

        seen["shape"] = tuple(features.shape)
        if tuple(features.shape) != (batch, time, 4 * dim):
            raise ValueError(
                f"score_fn got features shaped {tuple(features.shape)}, expected "
                f"{(batch, time, 4 * dim)}: concatenate [h, c, h − c, h ⊙ c] on the last axis "
                "(c repeated over time)"
            )
        return ops.matmul(ops.sigmoid(ops.matmul(features, w1)), w2) - 0.5

    return query, keys, mask, score_fn, seen


def _din_variant(query, keys, mask, score_fn, use_softmax, *, order=(0, 1, 2, 3),
                 masked=True, scaled=True, axis=1, softmax=None):
    """The reference computation with one thing changed (NumPy)."""
    import keras

    c = np.broadcast_to(query[:, None, :], keys.shape)
    blocks = [keys, c, keys - c, keys * c]
    feats = np.concatenate([blocks[i] for i in order], -1)
    scores = keras.ops.convert_to_numpy(score_fn(feats))[..., 0]
    softmax = use_softmax if softmax is None else softmax
    if softmax:
        s = scores / np.sqrt(keys.shape[-1]) if scaled else scores
        if masked:
            s = np.where(mask, s, -1e9)
        if axis == 1:
            e = np.exp(s - s.max(1, keepdims=True))
            w = e / e.sum(1, keepdims=True)
        else:
            e = np.exp(s - s.max(0, keepdims=True))
            w = e / e.sum(0, keepdims=True)
        if masked:
            w = w * mask
    else:
        w = scores * mask if masked else scores
    return (keys * w[..., None]).sum(1), w


def check_din_pooling(fn):
    """Check ``fn(query, keys, mask, score_fn, use_softmax) -> (pooled, weights)``."""
    import keras

    def body(mistakes):
        query, keys, mask, score_fn, seen = din_probe()
        for use_softmax in (True, False):
            mode = f"use_softmax={use_softmax} " + ("(official code)" if use_softmax else "(paper)")
            out = run_probe(
                lambda us=use_softmax: fn(query, keys, mask, score_fn, us), f"din_pooling, {mode}"
            )
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                mistakes.append("return (pooled, weights): a pair.")
                return None
            pooled, weights = (keras.ops.convert_to_numpy(o) for o in out)
            if seen.get("shape") != keys.shape[:2] + (4 * keys.shape[-1],):
                mistakes.append(
                    f"score_fn got features shaped {seen.get('shape')}; expected "
                    f"{keys.shape[:2] + (4 * keys.shape[-1],)}: concatenate [h, c, h − c, h ⊙ c] "
                    "on the last axis (c repeated over time)."
                )
                return None
            if weights.shape != mask.shape or pooled.shape != query.shape:
                mistakes.append(
                    f"{mode}: weights {weights.shape} / pooled {pooled.shape}; expected "
                    f"{mask.shape} and {query.shape}."
                )
                continue
            ref_p, ref_w = _din_variant(query, keys, mask, score_fn, use_softmax)
            if np.allclose(weights, ref_w, atol=1e-4) and np.allclose(pooled, ref_p, atol=1e-3):
                continue
            found = _name_din_mistake(query, keys, mask, score_fn, use_softmax, weights)
            mistakes.append(f"{mode}: {found}")
            if np.allclose(weights, ref_w, atol=1e-4):
                mistakes.append(
                    f"{mode}: the weights are right but pooled is not sum_t w_t h_t "
                    "(weighted sum of the *keys* over time)."
                )
        return "[h, c, h − c, h ⊙ c] scored, padding weight 0, both normalizations right."

    return run_checker("check_din_pooling", body)


def _name_din_mistake(query, keys, mask, score_fn, use_softmax, weights):
    pad_weight = np.abs(weights[~mask]).max()
    if pad_weight > 1e-6:
        return (
            f"padding steps get weight up to {pad_weight:.3g}: mask them (softmax: a very "
            "negative score before it and × mask after; no softmax: × mask)."
        )
    if use_softmax:
        sums = weights.sum(1)
        if np.allclose(weights[mask], 1.0):
            return (
                "every weight is 1: softmax over an axis of size 1 (the last axis of "
                "(B, T, 1) scores). Squeeze to (B, T) and take the softmax over time (axis 1)."
            )
        if not np.allclose(sums, 1.0, atol=1e-4):
            return (
                f"weights sum to {np.round(sums, 3).tolist()} over time: softmax over the "
                "wrong axis (over the batch?) — normalise over time, axis 1."
            )
        unscaled = _din_variant(query, keys, mask, score_fn, True, scaled=False)[1]
        if np.allclose(weights, unscaled, atol=1e-4):
            return (
                "softmax of the raw scores: the official code divides them by sqrt(d) "
                "(d = key size) first."
            )
    else:
        paper_normalised = _din_variant(query, keys, mask, score_fn, False, softmax=True)[1]
        if np.allclose(weights.sum(1), 1.0, atol=1e-4) or np.allclose(
            weights, paper_normalised, atol=1e-4
        ):
            return (
                "the weights sum to 1 with use_softmax=False: the paper's version uses the raw "
                "scores (no softmax), so the sum keeps how strongly the history matches."
            )
    import itertools

    for order in itertools.permutations(range(4)):
        if order != (0, 1, 2, 3):
            w = _din_variant(query, keys, mask, score_fn, use_softmax, order=order)[1]
            if np.allclose(weights, w, atol=1e-4):
                return (
                    f"the feature blocks are in the order {order} of (h, c, h − c, h ⊙ c): "
                    "use [h, c, h − c, h ⊙ c] — the activation unit's weights expect that order."
                )
    return (
        "the weights differ from softmax_t(MLP([h, c, h − c, h ⊙ c]) / sqrt(d)) "
        "(official) / MLP(...) × mask (paper): check the features, c − h vs h − c, the mask."
    )


# --- recalibration -----------------------------------------------------------
def check_recalibrate(fn):
    """Check ``fn(probabilities, negative_keep_rate)`` = q / (q + (1 − q) / r)."""

    def body(mistakes):
        q = np.array([0.02, 0.1, 0.3, 0.5, 0.9])
        r = 0.1
        got = run_probe(lambda: fn(q, r), "recalibrate(q, 0.1)")
        try:
            got = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            mistakes.append("return an array of probabilities, one per input.")
            return None
        want = q / (q + (1 - q) / r)
        wrong = {
            "q * r": "multiplied the probability by r: the odds, not the probability, scale by r.",
            "q / (q + (1 - q) * r)": (
                "the correction goes the wrong way (that *raises* the probabilities): the model "
                "saw too few negatives, so the true probability is lower — divide by r."
            ),
            "q": "returned q unchanged: downsampled negatives inflate the odds by 1 / r.",
        }
        candidates = {"q * r": q * r, "q / (q + (1 - q) * r)": q / (q + (1 - q) * r), "q": q}
        if got.shape != q.shape:
            mistakes.append(f"returned shape {got.shape}; expected {q.shape} (vectorised).")
        elif not np.allclose(got, want, rtol=1e-6):
            named = [wrong[k] for k, v in candidates.items() if np.allclose(got, v, rtol=1e-6)]
            mistakes.extend(named or [
                f"recalibrate(q, 0.1) = {np.round(got, 4).tolist()}, expected "
                f"{np.round(want, 4).tolist()}: p = q / (q + (1 - q) / r)."
            ])
        for bad in (0.0, 1.5):
            try:
                run_probe(lambda b=bad: fn(q, b), f"recalibrate(q, {bad})")
            except Crash as error:
                if not isinstance(error.error, ValueError):
                    mistakes.append(f"r = {bad} raised {error}; raise ValueError instead.")
            else:
                mistakes.append(
                    f"r = {bad} was accepted: a keep rate outside (0, 1] is a bug upstream — "
                    "raise ValueError."
                )
        return "p = q / (q + (1 − q) / r), bad rates refused."

    return run_checker("check_recalibrate", body)
