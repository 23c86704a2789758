"""Training and scoring shared by the notebooks and the benchmark.

Kept tiny on purpose: Keras' own ``fit`` and scikit-learn's metrics do the
work; this module only fixes the choices every experiment must share (keep the
best validation epoch, score with exact ROC-AUC / PR-AUC) so that numbers in
different notebooks are comparable.
"""

from __future__ import annotations

import time

import numpy as np

BATCH_SIZE = 128


def fit_best(
    model,
    x_train,
    y_train,
    validation_data,
    *,
    epochs,
    batch_size=BATCH_SIZE,
    class_weight=None,
    monitor=None,
):
    """Train for ``epochs`` and keep the weights of the best validation epoch.

    ``monitor``: the validation quantity that picks the best epoch, e.g.
    ``"val_roc_auc"`` (higher is better) or ``"val_loss"`` (lower is better).
    By default the model's ROC-AUC metric: the one named ``roc_auc`` (as the
    builders in ``helpers.models`` compile it), else the first ROC ``AUC``
    metric whatever its name. Returns ``(model, history, seconds)``.
    """
    import keras

    metrics = compiled_metrics(model)
    names = {"loss", *metrics}
    monitor = monitor or _default_monitor(metrics)
    wanted = monitor.removeprefix("val_")
    if wanted not in names:
        raise ValueError(
            f"fit_best monitors {monitor!r}, but the model's compiled metrics are "
            f"{sorted(names)}: compile with keras.metrics.AUC(name={wanted!r}) or pass "
            "monitor= one of those (prefixed with 'val_')."
        )
    best = keras.callbacks.EarlyStopping(
        monitor=monitor,
        mode="min" if wanted == "loss" else "max",
        patience=epochs,
        restore_best_weights=True,
    )
    start = time.perf_counter()
    history = model.fit(
        x_train, y_train, validation_data=validation_data, epochs=epochs,
        batch_size=batch_size, class_weight=class_weight, callbacks=[best], verbose=0,
    )  # fmt: skip
    return model, history, time.perf_counter() - start


def compiled_metrics(model) -> dict[str, str]:
    """{metric name: kind} of the metrics ``model`` was compiled with.

    The kind is "ROC-AUC" for ``keras.metrics.AUC`` on the ROC curve (its default,
    and the string "auc"), otherwise the metric's class name ("AUC" for a PR-curve
    AUC) or the string it was given ("accuracy")."""
    config = model.get_compile_config() if getattr(model, "compiled", False) else None
    if not config:
        raise ValueError("fit_best needs a compiled model: call model.compile(...) first")
    metrics = {}
    for metric in config.get("metrics") or []:
        if isinstance(metric, str):  # e.g. "accuracy", "auc" (Keras' AUC, ROC curve)
            metrics[metric] = "ROC-AUC" if metric.lower() == "auc" else metric
        elif isinstance(metric, dict):
            settings = metric.get("config", {})
            roc = metric.get("class_name") == "AUC" and settings.get("curve", "ROC") == "ROC"
            metrics[settings.get("name", "")] = "ROC-AUC" if roc else metric.get("class_name", "")
    return metrics


def _default_monitor(metrics: dict[str, str]) -> str:
    if "roc_auc" in metrics:
        return "val_roc_auc"
    roc = [name for name, kind in metrics.items() if kind == "ROC-AUC"]
    if not roc:
        raise ValueError(
            f"the model is compiled with metrics {sorted(metrics)}: add "
            "keras.metrics.AUC(curve='ROC', name='roc_auc') so fit_best can keep the best "
            "validation epoch (or pass monitor='val_loss')."
        )
    return f"val_{roc[0]}"


def score(labels, probs) -> dict[str, float]:
    """Exact ROC-AUC and PR-AUC (average precision) of ``probs`` ``(n,)`` vs 0/1 ``labels``.

    Raises ``ValueError`` with the shapes when they do not match, and when the
    labels hold one class only (both metrics are undefined then).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    labels, probs = np.asarray(labels).ravel(), np.asarray(probs, dtype=float).ravel()
    if labels.shape != probs.shape:
        raise ValueError(
            f"labels {labels.shape} and probs {probs.shape} must have one value per sequence"
        )
    if len(np.unique(labels)) < 2:
        raise ValueError("labels hold one class only: ROC-AUC and PR-AUC need both 0 and 1")
    return {
        "roc_auc": round(float(roc_auc_score(labels, probs)), 4),
        "pr_auc": round(float(average_precision_score(labels, probs)), 4),
    }


def bootstrap_roc_auc(labels, scores, rows) -> np.ndarray:
    """ROC-AUC of ``scores`` on each bootstrap resample: ``rows`` ``(B, n)`` indices → ``(B,)``.

    Entry ``b`` equals ``roc_auc_score(labels[rows[b]], scores[rows[b]])`` (ties count
    one half), computed for all resamples at once: a resample is a count per
    session, and ROC-AUC is the weighted share of (positive, negative) pairs in
    the right order (Mann-Whitney), so one sort of the scores serves every
    resample. A paired bootstrap of two models passes the same ``rows`` to both.
    Raises ``ValueError`` when a resample holds one class only (undefined AUC).
    """
    labels, scores = np.asarray(labels).ravel(), np.asarray(scores, dtype=float).ravel()
    rows = np.asarray(rows)
    if labels.shape != scores.shape:
        raise ValueError(
            f"labels {labels.shape} and scores {scores.shape} must have the same shape"
        )
    if rows.ndim != 2 or not np.issubdtype(rows.dtype, np.integer):
        raise ValueError(f"rows must be integer indices shaped (resamples, n), got {rows.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    counts = np.zeros((len(rows), len(labels)))
    np.add.at(counts, (np.arange(len(rows))[:, None], rows), 1.0)  # (B, n): copies drawn
    order = np.argsort(scores, kind="stable")
    sorted_scores, positive = scores[order], labels[order] == 1
    tie_starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    counts = counts[:, order]
    pos = np.add.reduceat(counts * positive, tie_starts, axis=1)  # (B, groups of equal score)
    neg = np.add.reduceat(counts * ~positive, tie_starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negatives scored strictly lower
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    if np.any(n_pos == 0) or np.any(n_neg == 0):
        raise ValueError("a resample holds one class only: its ROC-AUC is undefined")
    return (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)
