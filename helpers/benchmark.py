"""Benchmark: every model on the same simulated split, against the Bayes ceiling.

Run ``python -m helpers.benchmark`` for a table, ``--json`` for machine-readable
output (one object per model). ``--task`` picks the benchmark: ``purchase``
(default, below), ``ctr`` (candidate-aware click models, ``helpers.ctr.benchmark``),
``retrieval`` (two-tower losses, ``helpers.retrieval.benchmark``), ``loaders``
(real-log loaders against ``pandas.read_csv``, ``helpers.loader_benchmark``) or
``budget`` (notebook 07's LSTM-vs-Transformer comparison under several training
budgets, ``helpers.budget_benchmark``); each
task module has its own ``main(argv)`` and the remaining arguments go to it.
All models train on the same users and are
scored on the same held-out users; ``bayes_roc_auc`` is the ROC-AUC of the
simulator's true probability on that test split, the best any model can
expect. Order-blind baselines see only per-session counts
(:func:`helpers.models.count_features`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

# Defaults: large enough that the test split has ~500 positives (ROC-AUC
# standard error ~0.01), small enough for ~2 minutes on 2 CPU cores.
N_SEQUENCES = 40_000
SPLIT = (0.6, 0.1, 0.3)
EPOCHS = 8


def _scores(labels, probs, data_test):
    from helpers.training import score

    return {
        **score(labels, probs),
        "bayes_roc_auc": round(data_test.bayes_roc_auc, 4),
        "bayes_pr_auc": round(data_test.bayes_pr_auc, 4),
    }


def run(n_sequences=N_SEQUENCES, seed=0, epochs=EPOCHS, quiet=True) -> list[dict]:
    """Train and score every model; returns one dict per model."""
    from helpers import models, transformers
    from helpers.data import make_dataset, split_by_user
    from helpers.setup import setup_notebook
    from helpers.training import fit_best

    setup_notebook(seed, quiet=quiet)
    train, val, test = split_by_user(make_dataset(n_sequences, seed=seed), SPLIT, seed=seed)
    results = []

    def record(name, order_aware, seconds, probs, params):
        row = {"model": name, "order_aware": order_aware, **_scores(test.labels, probs, test)}
        row.update(train_seconds=round(seconds, 1), params=params)
        row.update(test_sequences=len(test), test_positives=int(test.labels.sum()))
        results.append(row)

    for kind in ("logistic", "boosting"):
        start = time.perf_counter()
        baseline = models.build_order_blind_baseline(kind)
        baseline.fit(models.count_features(train), train.labels)
        seconds = time.perf_counter() - start
        probs = baseline.predict_proba(models.count_features(test))[:, 1]
        record(f"order_blind_{kind}", False, seconds, probs, None)

    keras_models = {
        "lstm": (
            lambda: models.build_lstm_classifier(None, train.features.shape[-1]),
            lambda d: d.features,
        ),
        "lstm_last_state": (models.build_lstm_last_state_model, lambda d: d.inputs()),
        "lstm_attention": (models.build_lstm_attention_model, lambda d: d.inputs()),
        # notebook 07: self-attention over the same ids instead of the LSTM
        "bst_transformer": (transformers.build_bst_classifier, lambda d: d.inputs()),
    }
    for name, (build, inputs) in keras_models.items():
        model, _, seconds = fit_best(
            build(), inputs(train), train.labels, (inputs(val), val.labels), epochs=epochs
        )
        probs = model.predict(inputs(test), batch_size=1024, verbose=0)[:, 0]
        record(name, True, seconds, probs, int(model.count_params()))
    return results


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"


def format_table(results: list[dict]) -> str:
    columns = [
        "model",
        "order_aware",
        "roc_auc",
        "pr_auc",
        "bayes_roc_auc",
        "train_seconds",
        "params",
    ]
    rows = [[str(r.get(c, "")) if r.get(c) is not None else "—" for c in columns] for r in results]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


# --task name -> the module whose main(argv) runs that benchmark
TASKS = {
    "purchase": "helpers.benchmark",
    "ctr": "helpers.ctr.benchmark",
    "retrieval": "helpers.retrieval.benchmark",
    "loaders": "helpers.loader_benchmark",
    "budget": "helpers.budget_benchmark",
}


def main(argv=None):
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--task", choices=sorted(TASKS), default="purchase")
    known, rest = chooser.parse_known_args(argv)
    if known.task != "purchase":
        import importlib

        return importlib.import_module(TASKS[known.task]).main(rest)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], parents=[chooser])
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument("--n-sequences", type=int, default=N_SEQUENCES)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(rest)
    start = time.perf_counter()
    results = run(args.n_sequences, args.seed, args.epochs)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    first = results[0]
    print(format_table(results))
    print(
        f"\nSame simulated test split for every model: {first['test_sequences']} sessions, "
        f"{first['test_positives']} purchases; Bayes PR-AUC {first['bayes_pr_auc']}."
    )
    print(f"Machine: {machine()}; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
