"""Ranking and calibration metrics for click models (notebooks 10 and 11).

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
and ``np.bincount``: a Python loop calling ``roc_auc_score`` per user took seconds
on a few thousand users (tests compare both against pairwise counting).
"""

from __future__ import annotations

import numpy as np


def _vector(name, values, dtype=float):
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array.astype(dtype) if dtype is not None else array


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
        ``sum_g w_g AUC_g / sum_g w_g`` over the groups with both classes.

    Raises:
        ValueError: shapes differ, labels are not 0/1, or no group has both classes.
    """
    labels = _vector("labels", labels)
    scores = _vector("scores", scores)
    groups = _vector("groups", groups, dtype=None)
    n = len(labels)
    if len(scores) != n or len(groups) != n:
        raise ValueError(
            f"labels, scores and groups must have the same length, got "
            f"{n}, {len(scores)} and {len(groups)}"
        )
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    if weights is None:
        weights = np.ones(n)
    else:
        weights = _vector("weights", weights)
        if len(weights) != n:
            raise ValueError(f"weights must have length {n}, got {len(weights)}")
        if np.any(weights < 0):
            raise ValueError("weights must be non-negative")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite (no NaN or inf)")
    # One pass for all groups (no Python loop over users): within each group, the
    # Mann-Whitney form of ROC-AUC, ties counted one half (what roc_auc_score gives):
    #   AUC_g = (sum of the positives' mid-ranks - P (P + 1) / 2) / (P N)
    _, code = np.unique(groups, return_inverse=True)
    code = code.reshape(-1)
    order = np.lexsort((scores, code))  # by group, then by score
    g, s, y = code[order], scores[order], labels[order]
    first_of_group = np.r_[True, g[1:] != g[:-1]]
    first_of_tie = first_of_group | np.r_[True, s[1:] != s[:-1]]
    position = np.arange(n, dtype=float)
    group_start = np.maximum.accumulate(np.where(first_of_group, position, 0))
    tie = np.cumsum(first_of_tie) - 1
    tie_start = position[first_of_tie]
    tie_end = np.r_[tie_start[1:], n] - 1
    mid_rank = (tie_start + tie_end)[tie] / 2 - group_start + 1  # 1-based within the group
    n_groups = g[-1] + 1
    size = np.bincount(g, minlength=n_groups)
    positives = np.bincount(g, weights=y, minlength=n_groups)
    negatives = size - positives
    rank_sum = np.bincount(g, weights=y * mid_rank, minlength=n_groups)
    both = (positives > 0) & (negatives > 0)  # one class only: no pair to order
    auc = (rank_sum[both] - positives[both] * (positives[both] + 1) / 2) / (
        positives[both] * negatives[both]
    )
    w = np.bincount(g, weights=weights[order], minlength=n_groups)[both]
    weight_sum = w.sum()
    if not both.any() or weight_sum == 0:
        raise ValueError(
            f"no group has both a positive and a negative label (out of {n_groups} groups): "
            "GAUC is undefined"
        )
    return float((w * auc).sum() / weight_sum)


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
