"""Retrieval losses: what the item scores are pushed against.

All take user vectors ``u`` ``(B, d)`` and score items by the dot product. They
differ in **which items play the negatives** and whether the sampling is
corrected for:

* :func:`full_softmax_loss` — every item of the catalogue is a negative: the
  exact softmax cross-entropy, the ceiling (and the cost: ``B × n_items`` scores).
* :func:`sampled_softmax_loss` — the positive against ``S`` sampled items shared
  by the batch. With sampling distribution ``q``, subtracting ``log q`` from each
  sampled logit makes it an unbiased estimate of the full softmax's gradient in
  the limit (Jean et al. 2015, Bengio & Senécal 2008). TensorFlow's
  ``tf.nn.sampled_softmax_loss`` subtracts the log expected count from the
  positive's logit too; with uniform ``q`` that is the same constant in every
  column and drops out, so uniform negatives need no correction.
* :func:`in_batch_softmax_loss` — the other rows' positives are the negatives
  (free: their vectors are computed anyway). An item appears in a batch in
  proportion to its popularity, so without correction popular items are pushed
  down far more often than tail items: the logQ correction (Yi et al., RecSys
  2019) subtracts ``log q_j``, the item's log sampling probability, from column j.
* :func:`bce_one_negative_loss` — the original SASRec's loss (Kang & McAuley 2018,
  ``kang205/SASRec`` model.py): a binary cross-entropy on the positive and one
  uniformly drawn negative per position.

``keras.ops`` versions train models; ``*_np`` NumPy versions are the references the
tests compare with.
"""

from __future__ import annotations

import numpy as np
from keras import ops


def _log_softmax_np(logits, axis=-1):
    logits = np.asarray(logits, dtype=np.float64)
    top = logits.max(axis=axis, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(axis=axis, keepdims=True))


# --- NumPy references -------------------------------------------------------------


def in_batch_softmax_np(user_vectors, item_vectors, log_q=None) -> float:
    """Mean in-batch softmax cross-entropy (NumPy, float64).

    ``user_vectors`` ``(B, d)``, ``item_vectors`` ``(B, d)``: row i's positive is item
    i, the other B − 1 items of the batch are its negatives. ``log_q`` ``(B,)``: log
    of each in-batch item's sampling probability; the logits are
    ``U Vᵀ − log_q[None, :]`` (the correction belongs to the *column*, the item).
    """
    u, v = np.asarray(user_vectors, np.float64), np.asarray(item_vectors, np.float64)
    _check_pair(u, v, log_q)
    logits = u @ v.T
    if log_q is not None:
        logits = logits - np.asarray(log_q, np.float64)[None, :]
    return float(-np.mean(np.diag(_log_softmax_np(logits, axis=1))))


def full_softmax_np(user_vectors, all_item_vectors, targets) -> float:
    """Mean cross-entropy of ``targets`` ``(B,)`` against every row of
    ``all_item_vectors`` ``(n_items + 1, d)`` (row 0 = padding, never a candidate)."""
    logits = np.asarray(user_vectors, np.float64) @ np.asarray(all_item_vectors, np.float64).T
    logits[:, 0] = -np.inf
    return float(-np.mean(_log_softmax_np(logits)[np.arange(len(targets)), targets]))


def sampled_softmax_np(user_vectors, positive_vectors, negative_vectors, log_q_negatives=None):
    """Mean sampled-softmax cross-entropy: column 0 the positive ``(B, d)``, then the
    ``S`` shared negatives ``(S, d)``, each shifted by ``−log_q_negatives`` ``(S,)``."""
    u = np.asarray(user_vectors, np.float64)
    pos = np.sum(u * np.asarray(positive_vectors, np.float64), axis=1, keepdims=True)
    neg = u @ np.asarray(negative_vectors, np.float64).T
    if log_q_negatives is not None:
        neg = neg - np.asarray(log_q_negatives, np.float64)[None, :]
    return float(-np.mean(_log_softmax_np(np.concatenate([pos, neg], axis=1))[:, 0]))


def bce_one_negative_np(user_vectors, positive_vectors, negative_vectors) -> float:
    """SASRec's loss: ``−log σ(u·v⁺) − log(1 − σ(u·v⁻))``, averaged over rows."""
    u = np.asarray(user_vectors, np.float64)
    pos = np.sum(u * np.asarray(positive_vectors, np.float64), axis=1)
    neg = np.sum(u * np.asarray(negative_vectors, np.float64), axis=1)
    return float(np.mean(np.logaddexp(0, -pos) + np.logaddexp(0, neg)))


def _check_pair(u, v, log_q):
    if u.ndim != 2 or v.shape != u.shape:
        raise ValueError(
            f"user_vectors and item_vectors must both be (B, d) with the same shape, "
            f"got {u.shape} and {v.shape}"
        )
    if log_q is not None and np.shape(log_q) != (len(u),):
        raise ValueError(f"log_q must be (B,) = ({len(u)},), got {np.shape(log_q)}")


# --- keras.ops versions (used in training) ------------------------------------------


def _cross_entropy_first_column(logits):
    """Mean of −log softmax(logits)[:, 0]: the positive sits in column 0."""
    return ops.mean(ops.logsumexp(logits, axis=1) - logits[:, 0])


def in_batch_softmax_loss(user_vectors, item_vectors, log_q=None):
    """keras.ops version of :func:`in_batch_softmax_np`; ``(B, d), (B, d), (B,)`` → scalar."""
    logits = ops.matmul(user_vectors, ops.transpose(item_vectors))  # (B, B): row = user
    if log_q is not None:
        logits = logits - ops.expand_dims(log_q, 0)  # column j is item j: subtract log q_j
    labels = ops.arange(ops.shape(logits)[0])
    return ops.mean(
        ops.sparse_categorical_crossentropy(labels, logits, from_logits=True, axis=-1)
    )


def full_softmax_loss(user_vectors, all_item_vectors, targets):
    """keras.ops version of :func:`full_softmax_np`."""
    logits = ops.matmul(user_vectors, ops.transpose(all_item_vectors))  # (B, n_items + 1)
    padding = ops.one_hot(ops.zeros_like(targets), ops.shape(logits)[1]) * 1e9
    return ops.mean(
        ops.sparse_categorical_crossentropy(targets, logits - padding, from_logits=True)
    )


def sampled_softmax_loss(user_vectors, positive_vectors, negative_vectors,
                         log_q_negatives=None, accidental_hits=None):  # fmt: skip
    """keras.ops version of :func:`sampled_softmax_np`. ``accidental_hits`` ``(B, S)``
    bool: a sampled negative that is the row's own positive is removed (−1e9)."""
    pos = ops.sum(user_vectors * positive_vectors, axis=1, keepdims=True)
    neg = ops.matmul(user_vectors, ops.transpose(negative_vectors))
    if log_q_negatives is not None:
        neg = neg - ops.expand_dims(log_q_negatives, 0)
    if accidental_hits is not None:
        neg = ops.where(accidental_hits, -1e9, neg)
    return _cross_entropy_first_column(ops.concatenate([pos, neg], axis=1))


def bce_one_negative_loss(user_vectors, positive_vectors, negative_vectors):
    """keras.ops version of :func:`bce_one_negative_np` (softplus is the stable −log σ)."""
    pos = ops.sum(user_vectors * positive_vectors, axis=1)
    neg = ops.sum(user_vectors * negative_vectors, axis=1)
    return ops.mean(ops.softplus(-pos) + ops.softplus(neg))
