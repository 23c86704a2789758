"""Figures the notebooks share. Each function draws on ``ax`` (a new figure when
omitted) and returns the axes; the notebook ends the cell with ``plt.show()``.

Notebook-specific one-off plots stay in their notebook, where the reader sees
the code.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from helpers.sequences import BEHAVIORS

# one colour per behavior type, the same in every figure
BEHAVIOR_COLORS = {
    "search": "tab:purple",
    "pv": "tab:gray",
    "fav": "tab:orange",
    "cart": "tab:blue",
    "buy": "tab:green",
}


def _axes(ax, figsize=(7, 3)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def behavior_names(behavior_ids) -> list[str]:
    """Names of the real (non-padding) events of one sequence ``(max_len,)``."""
    return [BEHAVIORS[b - 1] for b in np.asarray(behavior_ids) if b > 0]


def session_timeline(data, row: int, ax=None):
    """One session as dots on a time axis, coloured by behavior type.

    ``data`` is a ``BehaviorSequences``; ``row`` selects the session. The
    x axis is minutes since the session's first event (cumulative time gaps).
    """
    ax = _axes(ax, (8, 1.8))
    length = int(data.lengths[row])
    names = behavior_names(data.behavior_ids[row, :length])
    minutes = np.cumsum(data.time_gaps[row, :length]) / 60.0
    for name in BEHAVIORS:
        at = [m for m, n in zip(minutes, names, strict=True) if n == name]
        if at:
            ax.scatter(at, np.zeros(len(at)), s=80, color=BEHAVIOR_COLORS[name], label=name)
    ax.set_yticks([])
    ax.set_xlabel("minutes since the first event")
    label = int(data.labels[row])
    extra = "" if data.true_prob is None else f", true P(buy) = {data.true_prob[row]:.3f}"
    ax.set_title(f"session {row}: {length} events, label {label}{extra}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=5, frameon=False)
    return ax


def attention_bars(weights, behavior_ids, ax=None, title="attention weights"):
    """Bar chart of one sequence's attention weights over its real events.

    ``weights`` ``(max_len,)`` (padding steps, weight 0, are not drawn);
    ``behavior_ids`` ``(max_len,)`` label and colour each bar.
    """
    names = behavior_names(behavior_ids)
    weights = np.asarray(weights)[: len(names)]
    ax = _axes(ax, (max(6, 0.35 * len(names)), 2.6))
    ax.bar(range(len(names)), weights, color=[BEHAVIOR_COLORS[n] for n in names])
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_ylabel("weight")
    ax.set_title(title)
    return ax


def attention_heatmap(weights, behavior_ids, ax=None, title="attention weights"):
    """Heatmap of attention weights ``(rows, max_len)``, one row per session,
    with each cell annotated by its behavior type's initial (s, p, f, c, b)."""
    weights, behavior_ids = np.asarray(weights), np.asarray(behavior_ids)
    width = int((behavior_ids > 0).sum(axis=1).max())
    ax = _axes(ax, (max(6, 0.3 * width), 0.45 * len(weights) + 1))
    shown = np.where(behavior_ids[:, :width] > 0, weights[:, :width], np.nan)
    image = ax.imshow(shown, aspect="auto", cmap="viridis")
    for (r, c), b in np.ndenumerate(behavior_ids[:, :width]):
        if b > 0:
            ax.text(c, r, BEHAVIORS[b - 1][0], ha="center", va="center", color="w", fontsize=7)
    ax.grid(False)  # the style's grid lines would cross the cells
    ax.set_xticks(range(0, width, max(1, width // 10)))  # whole event positions only
    ax.set_xlabel("event position")
    ax.set_ylabel("session")
    ax.set_title(title)
    plt.colorbar(image, ax=ax, fraction=0.03)
    return ax


def roc_pr_curves(labels, scores: dict, true_prob=None, axes=None):
    """ROC and precision-recall curves of several models side by side.

    ``scores`` maps a model name to its predicted probabilities ``(n,)``;
    ``true_prob`` (simulated data) adds the Bayes-optimal curve as a dashed line.
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 4))
    curves = dict(scores)
    if true_prob is not None:
        curves["Bayes (true probability)"] = true_prob
    for name, probs in curves.items():
        style = "--" if name.startswith("Bayes") else "-"
        fpr, tpr, _ = roc_curve(labels, probs)
        precision, recall, _ = precision_recall_curve(labels, probs)
        axes[0].plot(fpr, tpr, style, label=name)
        axes[1].plot(recall, precision, style, label=name)
    axes[0].plot([0, 1], [0, 1], ":", color="gray")
    axes[0].set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    axes[1].axhline(np.mean(labels), ls=":", color="gray", label="positive rate")
    axes[1].set(xlabel="recall", ylabel="precision", title="precision-recall")
    axes[1].legend(fontsize=8)
    return axes


def training_curves(history, metrics=("loss", "roc_auc"), axes=None):
    """Train vs validation curves from a Keras ``History`` (one panel per metric)."""
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3))
    for ax, metric in zip(np.atleast_1d(axes), metrics, strict=True):
        ax.plot(history.history[metric], label="train")
        if f"val_{metric}" in history.history:
            ax.plot(history.history[f"val_{metric}"], label="validation")
        ax.set(xlabel="epoch", title=metric)
        ax.legend()
    return axes
