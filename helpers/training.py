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


def build_optimizer_state(model):
    """Create the compiled ``model``'s optimizer variables now; return ``model``.

    Keras otherwise creates them (Adam's moments, the step count) inside the first
    traced training step, and variables created while TensorFlow traces make it trace
    the whole step a second time: about 2 CPU s for a small model, 7 s for a four-tower
    one. Building them eagerly changes no number: they start at zero either way.
    """
    model.optimizer.build(model.trainable_variables)
    return model


def restart_as(model, fresh):
    """Give the compiled ``model`` the initial weights and optimizer state of ``fresh``, a
    just-built (and compiled) model of the same architecture, and return ``model``.

    Training it again then equals training ``fresh`` (same weights, zeroed Adam slots,
    step count 0), but reuses ``model``'s traced train and predict steps instead of
    tracing new ones (about a second each on CPU). ``model``'s trained weights are lost.
    """
    if [w.shape for w in model.weights] != [w.shape for w in fresh.weights]:
        raise ValueError(
            f"restart_as needs two models of the same architecture, got {model.name!r} "
            f"({len(model.weights)} weights) and {fresh.name!r} ({len(fresh.weights)} weights)"
        )
    if not fresh.optimizer.built:
        build_optimizer_state(fresh)
    model.set_weights(fresh.get_weights())
    for mine, theirs in zip(model.optimizer.variables, fresh.optimizer.variables, strict=True):
        mine.assign(theirs)
    return model


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
    patience=None,
    shuffle=True,
):
    """Train for ``epochs`` and keep the weights of the best validation epoch.

    ``monitor``: the validation quantity that picks the best epoch, e.g.
    ``"val_roc_auc"`` (higher is better) or ``"val_loss"`` (lower is better).
    By default the model's ROC-AUC metric: the one named ``roc_auc`` (as the
    builders in ``helpers.models`` compile it), else the first ROC ``AUC``
    metric whatever its name. ``patience``: stop after that many epochs without a
    better validation score (``None``: train all ``epochs``). ``shuffle``: passed to
    ``fit``; ``False`` keeps the batches in the order the data gives them (for a
    ``keras.utils.PyDataset`` Keras would otherwise shuffle them with Python's global
    ``random``, which two models trained in threads would share).
    Returns ``(model, history, seconds)``; ``history.best_epoch`` is the epoch whose
    weights the model now holds, counted from 1 (the first of equally good ones).
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
        patience=epochs if patience is None else patience,
        restore_best_weights=True,
    )
    if model.built and not model.optimizer.built:
        build_optimizer_state(model)
    start = time.perf_counter()
    history = model.fit(
        x_train, y_train, validation_data=validation_data, epochs=epochs,
        batch_size=batch_size, class_weight=class_weight, callbacks=[best], verbose=0,
        shuffle=shuffle,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    history.best_epoch = best.best_epoch + 1  # read from the callback that restored it
    return model, history, seconds


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
    one half), computed for all resamples at once by
    :func:`helpers.metrics.grouped_roc_auc`: a resample is a group holding every session,
    counted as many times as it was drawn. A paired bootstrap of two models passes the
    same ``rows`` to both. Raises ``ValueError`` when a resample holds one class only
    (undefined AUC).
    """
    from helpers.metrics import grouped_roc_auc

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
    resamples, n = len(rows), len(labels)
    low = int(rows.min()) if rows.size else 0
    if rows.size and not (-n <= low and rows.max() < n):
        raise ValueError(f"rows must index the {n} sessions (from {-n} to {n - 1})")
    if low < 0:
        rows = np.where(rows < 0, rows + n, rows)  # numpy's negative indices, as labels[rows]
    # Sessions in score order, so that the tiled rows reach grouped_roc_auc already ordered
    # by (resample, score) and need no sort of resamples x sessions rows.
    order = np.argsort(scores)
    labels, scores = labels[order], scores[order]
    position = np.empty(n, dtype=np.intp)
    position[order] = np.arange(n)
    # copies of session j drawn in resample b, at slot b * n + position[j]
    slot = (np.arange(resamples)[:, None] * n + position[rows]).ravel()
    counts = np.bincount(slot, minlength=resamples * n)
    resample = np.repeat(np.arange(resamples), n)
    _, auc = grouped_roc_auc(np.tile(labels, resamples), np.tile(scores, resamples), resample,
                             counts)
    if np.isnan(auc).any():
        raise ValueError("a resample holds one class only: its ROC-AUC is undefined")
    return auc
