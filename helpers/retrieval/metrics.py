"""Retrieval metrics by **full ranking**: every item of the catalogue is a candidate.

With one held-out next item per user, recall@K (= hit rate@K) is the share of users
whose item is in their top K, and NDCG@K = mean of ``1 / log2(rank + 1)`` when the
rank (1 = best) is ≤ K. Ranking against a *sample* of items instead (e.g. SASRec's
100 random negatives) changes what the number means (Krichene & Rendle, KDD 2020):
:func:`sampled_auc` shows it with the negatives' distribution as a parameter.
"""

from __future__ import annotations

import numpy as np

from helpers.retrieval.towers import item_scores


def target_ranks(scores, targets) -> np.ndarray:
    """``scores`` ``(n, n_items + 1)``, ``targets`` ``(n,)`` → rank of each target,
    1 = best (ties count against the target: an all-equal score is not a hit)."""
    scores, targets = np.asarray(scores), np.asarray(targets)
    if scores.ndim != 2 or targets.shape != (len(scores),):
        raise ValueError(f"scores must be (n, n_items + 1) and targets (n,), got "
                         f"{scores.shape} and {targets.shape}")  # fmt: skip
    if ((targets < 1) | (targets >= scores.shape[1])).any():
        raise ValueError(f"targets must be item ids in 1..{scores.shape[1] - 1} (0 is padding)")
    own = scores[np.arange(len(targets)), targets][:, None]
    others = (scores >= own).sum(axis=1) - 1  # items scoring at least as high, minus itself
    return 1 + others


def full_ranks(users, item_table, targets, chunk=1000) -> np.ndarray:
    """Rank of each target among all items (1 = best), scored in chunks of users so the
    ``(n, n_items + 1)`` score matrix never sits in memory at once."""
    return np.concatenate([
        target_ranks(item_scores(users[start : start + chunk], item_table),
                     targets[start : start + chunk])
        for start in range(0, len(targets), chunk)
    ])  # fmt: skip


def ranking_report(users, item_table, targets, head_items=None, ks=(10, 50),
                   chunk=1000) -> dict:  # fmt: skip
    """Recall@K, NDCG@10 by full ranking, in chunks of users (scores never all in memory).

    ``users`` ``(n, d)`` or ``(n, K, d)``; ``item_table`` ``(n_items + 1, d)``;
    ``head_items`` optional bool ``(n_items + 1,)``: adds recall@50 on users whose target
    is a head / tail item and the share of top-50 slots that go to head items.
    """
    ranks, head_share = [], []
    for start in range(0, len(targets), chunk):
        scores = item_scores(users[start : start + chunk], item_table)
        ranks.append(target_ranks(scores, targets[start : start + chunk]))
        if head_items is not None:
            top = np.argpartition(-scores, 50, axis=1)[:, :50]
            head_share.append(head_items[top].mean(axis=1))
    return report_from_ranks(np.concatenate(ranks), targets, head_items,
                             np.concatenate(head_share) if head_share else None, ks)  # fmt: skip


def report_from_ranks(ranks, targets, head_items=None, head_share=None, ks=(10, 50)) -> dict:
    row = {f"recall_at_{k}": round(float((ranks <= k).mean()), 4) for k in ks}
    row["ndcg_at_10"] = round(float(np.where(ranks <= 10, 1 / np.log2(ranks + 1), 0).mean()), 4)
    if head_items is not None:
        is_head = head_items[targets]
        row["recall_at_50_head"] = round(float((ranks[is_head] <= 50).mean()), 4)
        row["recall_at_50_tail"] = round(float((ranks[~is_head] <= 50).mean()), 4)
        if head_share is not None:
            row["head_share_top_50"] = round(float(np.mean(head_share)), 4)
    return row


def popularity_scores(train_targets, n_items: int) -> np.ndarray:
    """The popularity baseline's item scores ``(n_items + 1,)``: training-target counts,
    ties broken by a tiny deterministic amount so ranks are well defined."""
    counts = np.bincount(train_targets, minlength=n_items + 1).astype(np.float64)
    return counts - np.arange(n_items + 1) * 1e-9


def head_items(train_targets, n_items: int, share: float = 0.2) -> np.ndarray:
    """Bool ``(n_items + 1,)``: the ``share`` most frequent training targets (the head)."""
    order = np.argsort(-popularity_scores(train_targets, n_items)[1:]) + 1
    head = np.zeros(n_items + 1, dtype=bool)
    head[order[: int(round(share * n_items))]] = True
    return head


def sampled_auc(scores, targets, negative_probs, n_negatives=100, seed=0) -> float:
    """AUC of the target against ``n_negatives`` items drawn from ``negative_probs``
    ``(n_items + 1,)`` (the target itself excluded): the share of (target, negative)
    pairs ranked correctly. Uniform negatives are mostly tail items no one wants,
    so they are easy; popularity-drawn negatives are the items a model must beat."""
    rng = np.random.default_rng(seed)
    probs = np.asarray(negative_probs, dtype=np.float64).copy()
    probs[0] = 0
    probs /= probs.sum()
    negatives = rng.choice(len(probs), size=(len(targets), n_negatives), p=probs)
    own = scores[np.arange(len(targets)), targets][:, None]
    neg = np.take_along_axis(scores, negatives, axis=1)
    valid = negatives != targets[:, None]
    wins = (own > neg) + 0.5 * (own == neg)
    return float((wins * valid).sum() / valid.sum())
