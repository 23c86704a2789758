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
