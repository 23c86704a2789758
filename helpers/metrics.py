"""Ranking and calibration metrics for click models (notebooks 10 and 11).

* :func:`gauc` — the DIN paper's group AUC: ROC-AUC computed inside each group
  (a user, or a user's page view) and averaged with weights (by default the
  group's number of impressions). Groups with one class only are left out: a
  user who clicked everything or nothing says nothing about *ordering* that
  user's candidates, which is the only thing a ranker decides.
* :func:`recalibrate` — undo the shift of a model trained on negatives kept at
  rate ``r``: it learned ``q = p / (p + r (1 - p))``; inverting gives
  ``p = q / (q + (1 - q) / r)``.

The per-group AUC is scikit-learn's ``roc_auc_score`` (ties count one half);
only the grouping and weighting are written here.
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
    from sklearn.metrics import roc_auc_score

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
    order = np.argsort(groups, kind="stable")
    keys, starts = np.unique(groups[order], return_index=True)
    total, weight_sum = 0.0, 0.0
    for chunk in np.split(order, starts[1:]):
        y = labels[chunk]
        if y.min() == y.max():  # one class only: no pair to order
            continue
        w = weights[chunk].sum()
        total += w * roc_auc_score(y, scores[chunk])
        weight_sum += w
    if weight_sum == 0:
        raise ValueError(
            f"no group has both a positive and a negative label (out of {len(keys)} groups): "
            "GAUC is undefined"
        )
    return float(total / weight_sum)


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
