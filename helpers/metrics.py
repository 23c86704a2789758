"""Ranking and calibration metrics: one grouped ROC-AUC, GAUC, recalibration.

* :func:`grouped_roc_auc` — ROC-AUC inside each group, every group at once, rows
  optionally counted several times. The one hand-written ROC-AUC of the project:
  :func:`gauc` (a group is a user), :func:`helpers.training.bootstrap_roc_auc` (a
  group is a bootstrap resample, the copies drawn are the counts) and
  :func:`helpers.churn.roc_auc_rows` (a group is a row of a matrix) call it.
* :func:`gauc` — the DIN paper's group AUC: ROC-AUC computed inside each group
  (a user, or a user's page view) and averaged with weights (by default the
  group's number of impressions). Groups with one class only are left out: a
  user who clicked everything or nothing says nothing about *ordering* that
  user's candidates, which is the only thing a ranker decides.
* :func:`recalibrate` — undo the shift of a model trained on negatives kept at
  rate ``r``: it learned ``q = p / (p + r (1 - p))``; inverting gives
  ``p = q / (q + (1 - q) / r)``.

The per-group AUC is the Mann-Whitney statistic (ties count one half, exactly
scikit-learn's ``roc_auc_score``), computed for all groups at once with one sort
and ``np.bincount``: a Python loop calling ``roc_auc_score`` per user (or per
resample) took seconds (tests compare it with that loop and with pairwise counting).
"""

from __future__ import annotations

import numpy as np


def _vector(name, values, dtype=float):
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array.astype(dtype, copy=False) if dtype is not None else array


def _group_codes(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(keys (G,), code (n,))``: the sorted distinct keys and each row's index into them.

    ``np.unique(groups, return_inverse=True)``, without its sort when the keys are integers
    spanning at most a few times ``n`` values (user ids, resample numbers): then a
    ``bincount`` of the keys finds them in linear time.
    """
    n = len(groups)
    if n and np.issubdtype(groups.dtype, np.integer):
        low, high = int(groups.min()), int(groups.max())  # Python ints: no overflow
        limits = np.iinfo(np.intp)
        if high - low <= 4 * n and limits.min <= low and high <= limits.max:
            offset = groups.astype(np.intp, copy=False)
            if low:
                offset = offset - low  # in 0 .. 4n, so no overflow
            present = np.bincount(offset, minlength=high - low + 1) > 0
            keys = (np.flatnonzero(present) + low).astype(groups.dtype)
            if present.all():  # keys low, low + 1, ..., high: the offsets are the codes
                return keys, offset
            return keys, (np.cumsum(present) - 1)[offset]
    keys, code = np.unique(groups, return_inverse=True)
    return keys, code.reshape(-1)


def grouped_roc_auc(labels, scores, groups, counts=None) -> tuple[np.ndarray, np.ndarray]:
    """ROC-AUC inside every group at once: ``(keys (G,), auc (G,))``.

    ``auc[k]`` is ``sklearn.metrics.roc_auc_score(labels[m], scores[m], sample_weight=counts[m])``
    with ``m = groups == keys[k]``: the share of (positive, negative) pairs of the group
    in the right order, a tie counting one half (Mann-Whitney), each row counted
    ``counts`` times. One ordering of the rows (by group, then score) serves every
    group; no Python loop over groups. Rows that already come in that order (one sorted
    score vector tiled per group, as :func:`helpers.training.bootstrap_roc_auc` passes)
    skip the sort. With integer counts every sum is exact, so the result is the exact
    pair count divided once (what counting pairs gives, to the last bit).

    Args:
        labels: ``(n,)`` 0/1 (ints, floats or bools).
        scores: ``(n,)`` finite scores, any monotone scale.
        groups: ``(n,)`` group key of each row: integers, strings, anything ``np.unique``
            sorts; need not be sorted or contiguous.
        counts: ``None`` (every row counts once) or ``(n,)`` non-negative finite weights:
            how many times the row counts (a bootstrap resample's copies drawn; 0 leaves
            the row out). Fractional weights act as ``roc_auc_score``'s ``sample_weight``.

    Returns:
        keys: ``(G,)`` the distinct group keys, sorted (``np.unique``'s order).
        auc: ``(G,)`` float ROC-AUC of each group; NaN where the group has no positive or no
            negative (counted with its ``counts``): its ROC-AUC is undefined.

    Raises:
        ValueError: an input is not one-dimensional, lengths differ, labels are not 0/1,
            scores are not finite, or counts are negative or not finite.
    """
    keys, _, auc = _grouped_roc_auc_and_codes(labels, scores, groups, counts)
    return keys, auc


def _grouped_roc_auc_and_codes(labels, scores, groups, counts=None):
    """:func:`grouped_roc_auc` plus each row's group code ``(n,)`` (its index into ``keys``)."""
    labels = _vector("labels", labels, dtype=None)
    scores = _vector("scores", scores)
    groups = _vector("groups", groups, dtype=None)
    n = len(labels)
    if len(scores) != n or len(groups) != n:
        raise ValueError(
            f"labels, scores and groups must have the same length, got "
            f"{n}, {len(scores)} and {len(groups)}"
        )
    positive = labels == 1
    if not (positive | (labels == 0)).all():
        raise ValueError("labels must be 0 or 1")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite (no NaN or inf)")
    if counts is not None:
        counts = _vector("counts", counts)
        if len(counts) != n:
            raise ValueError(f"counts must have length {n} (one per row), got {len(counts)}")
        if not np.isfinite(counts).all() or np.any(counts < 0):
            raise ValueError("counts must be finite and non-negative")
    keys, code = _group_codes(groups)
    row_code = code  # returned as given: the sort below reorders ``code``
    if n == 0:
        return keys, row_code, np.zeros(0)
    weight = counts  # None: every row once (bincount then counts rows, exactly)
    if not (
        np.all(code[1:] >= code[:-1])
        and np.all((code[1:] > code[:-1]) | (scores[1:] >= scores[:-1]))
    ):
        # Order rows by group, then by score: any sort of the scores (ties need no order,
        # they are summed as one block), then a stable sort by group, a linear-time radix
        # sort when the group codes fit 16 bits; cheaper than np.lexsort on the hundreds
        # of thousands of rows of a bootstrap (resamples x sessions). Rows that arrive
        # ordered (one sorted score vector tiled per group) skip this.
        order = np.argsort(scores)
        if len(keys) > 1:
            group_codes = code[order].astype(np.uint16 if len(keys) <= 2**16 else np.intp)
            order = order[np.argsort(group_codes, kind="stable")]
        code, scores, positive = code[order], scores[order], positive[order]
        weight = None if counts is None else counts[order]
    # blocks of equal score within a group: a new block wherever the group or the score changes
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    np.not_equal(code[1:], code[:-1], out=new_group[1:])
    new_block = new_group.copy()
    new_block[1:] |= scores[1:] != scores[:-1]
    block = np.cumsum(new_block, dtype=np.intp)  # (n,) 1-based block of each row
    n_blocks = int(block[-1])
    # one bincount gives each block's negatives (even slots) and positives (odd slots)
    by_class = np.bincount(2 * block + positive, weights=weight, minlength=2 * n_blocks + 2)
    neg = by_class[2::2].astype(float, copy=False)  # (blocks,)
    pos = by_class[3::2].astype(float, copy=False)
    first = block[new_group] - 1  # (groups,) first block of each group; blocks run group by group
    # Mann-Whitney: each positive beats the negatives scored lower in its group and ties half
    # of its block's. "Lower in its group" = negatives before the block (running total over
    # all blocks) minus those before the group's first block, subtracted once per group.
    before = np.cumsum(neg) - neg
    n_pos = np.add.reduceat(pos, first)
    n_neg = np.add.reduceat(neg, first)
    pairs_won = np.add.reduceat(pos * (before + 0.5 * neg), first) - n_pos * before[first]
    defined = (n_pos > 0) & (n_neg > 0)
    auc = np.full(len(keys), np.nan)
    auc[defined] = pairs_won[defined] / (n_pos[defined] * n_neg[defined])
    return keys, row_code, auc


def gauc(labels, scores, groups, weights=None) -> float:
    """Weighted mean of per-group ROC-AUC over groups that have both classes.

    Args:
        labels: ``(n,)`` 0/1 (click or not).
        scores: ``(n,)`` model scores (any monotone scale).
        groups: ``(n,)`` group key of each impression (user id, or user × request).
        weights: ``None`` (each group weighs its number of impressions, the DIN
            paper's choice), or ``(n,)`` per-impression weights summed per group
            (e.g. clicks or exposure time).

    Returns:
        ``sum_g w_g AUC_g / sum_g w_g`` over the groups with both classes, ``AUC_g``
        from :func:`grouped_roc_auc`.

    Raises:
        ValueError: shapes differ, labels are not 0/1, or no group has both classes.
    """
    _, code, auc = _grouped_roc_auc_and_codes(labels, scores, groups)  # checks the inputs
    n_groups = len(auc)
    if weights is None:
        w = np.bincount(code, minlength=n_groups).astype(float)
    else:
        weights = _vector("weights", weights)
        if len(weights) != len(code):
            raise ValueError(f"weights must have length {len(code)}, got {len(weights)}")
        if np.any(weights < 0):
            raise ValueError("weights must be non-negative")
        w = np.bincount(code, weights=weights, minlength=n_groups)
    both = ~np.isnan(auc)  # one class only: no pair to order
    w = w[both]
    weight_sum = w.sum()
    if not both.any() or weight_sum == 0:
        raise ValueError(
            f"no group has both a positive and a negative label (out of {n_groups} groups): "
            "GAUC is undefined"
        )
    return float((w * auc[both]).sum() / weight_sum)


def recalibrate(probabilities, negative_keep_rate):
    """Probabilities of a model trained with negatives kept at rate ``r``, corrected.

    Keeping each negative with probability ``r`` multiplies the odds the model
    sees by ``1 / r``; dividing them back: ``p = q / (q + (1 - q) / r)``.
    ``r = 1`` changes nothing. The order of the scores (hence any AUC) is unchanged.
    """
    r = float(negative_keep_rate)
    if not 0 < r <= 1:
        raise ValueError(f"negative_keep_rate must be in (0, 1], got {negative_keep_rate!r}")
    q = np.asarray(probabilities, dtype=float)
    if np.any((q < 0) | (q > 1)) or np.any(np.isnan(q)):
        raise ValueError("probabilities must lie in [0, 1]")
    return q / (q + (1 - q) / r)
