"""From a real behavior log to trained models and a report, in one command.

    python -m helpers.real_data taobao  UserBehavior.csv   [--out report/]
    python -m helpers.real_data retailrocket events.csv    [--out report/]

The task is the loaders' (:mod:`helpers.loaders`): one sequence per user of the
events before a time cutoff (the last ``--max-len``), label = "buys anything after
the cutoff". Steps, each printed as it runs:

1. load the file (fast C-parser path; a bad line stops with its file and line);
2. optionally keep a random sample of ``--max-users`` users (training time grows with
   users; the sample is stated in the report);
3. split *by user* into train / validation / test (60 / 10 / 30 %);
4. train the order-blind baseline (logistic regression on event counts), the
   question-4 LSTM over float features and the section-4 LSTM + attention over ids,
   each keeping its best validation epoch;
5. score the test users: ROC-AUC and PR-AUC (scikit-learn), against the positive rate.

Written to ``--out``: ``report.json`` (sizes, timings, scores, options) and
``report.png`` (ROC and precision-recall curves). GAUC is not reported: every user
contributes one sequence, so a per-user AUC is undefined (GAUC needs several
impressions per user, as in notebook 10's click logs).

Where to get the files: Taobao ``UserBehavior.csv`` from Tianchi
(https://tianchi.aliyun.com/dataset/649; 100,150,807 lines, 3.6 GB), RetailRocket
``events.csv`` from Kaggle (https://www.kaggle.com/datasets/retailrocket/ecommerce-dataset).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

LOADERS = {
    "taobao": "load_taobao_user_behavior",
    "retailrocket": "load_retailrocket_events",
}
SPLIT = (0.6, 0.1, 0.3)


def _say(message):
    print(message, flush=True)


def run(
    kind: str,
    path,
    *,
    out="real-data-report",
    max_len: int = 50,
    max_users: int | None = 200_000,
    epochs: int = 3,
    nrows: int | None = None,
    seed: int = 0,
) -> dict:
    """Load ``path`` (``kind`` in ``LOADERS``), train the three models, write the report.

    Returns the report (also written to ``out/report.json``).
    """
    if kind not in LOADERS:
        raise ValueError(f"kind must be one of {sorted(LOADERS)}, got {kind!r}")
    if max_users is not None and max_users < 10:
        raise ValueError(f"max_users must be at least 10 (or None for all), got {max_users}")
    from helpers.setup import setup_notebook

    setup_notebook(seed, quiet=True)  # before Keras is imported: quiet TensorFlow logs

    from helpers import loaders, models
    from helpers.data import split_by_user
    from helpers.training import fit_best, score

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"file": str(path), "kind": kind, "options": {
        "max_len": max_len, "max_users": max_users, "epochs": epochs, "nrows": nrows,
        "seed": seed, "split": SPLIT,
    }, "machine": f"{platform.machine()}, Python {platform.python_version()}"}

    start = time.perf_counter()
    _say(f"[1/5] loading {path} ...")
    data = getattr(loaders, LOADERS[kind])(path, max_len=max_len, nrows=nrows)
    report["load_seconds"] = round(time.perf_counter() - start, 1)
    report["users"] = len(data)
    report["positive_rate"] = round(float(data.positive_rate), 4)
    _say(f"      {len(data):,} users, {data.positive_rate:.1%} buy after the cutoff, "
         f"{report['load_seconds']} s")
    if len(np.unique(data.labels)) < 2:
        raise ValueError(
            f"{path}: every user has the same label ({int(data.labels[0])}), so nothing can "
            "be learned or scored; use a file that spans more time, or a different cutoff"
        )

    if max_users is not None and len(data) > max_users:
        keep = np.sort(np.random.default_rng(seed).choice(len(data), max_users, replace=False))
        data = data.subset(keep)
        _say(f"[2/5] kept a random sample of {max_users:,} users (--max-users)")
    else:
        _say("[2/5] all users kept")
    report["users_used"] = len(data)

    train, val, test = split_by_user(data, SPLIT, seed=seed)
    report["split_users"] = {"train": len(train), "validation": len(val), "test": len(test)}
    _say(f"[3/5] split by user: train {len(train):,}, validation {len(val):,}, "
         f"test {len(test):,} ({int(test.labels.sum()):,} buyers)")

    _say("[4/5] training")
    results, curves = {}, {}
    started = time.perf_counter()
    baseline = models.build_order_blind_baseline("logistic")
    baseline.fit(models.count_features(train), train.labels)
    curves["order-blind counts"] = baseline.predict_proba(models.count_features(test))[:, 1]
    results["order_blind_logistic"] = {"train_seconds": round(time.perf_counter() - started, 1)}
    _say(f"      order-blind logistic regression: {results['order_blind_logistic']}")

    keras_models = {
        "lstm": (lambda: models.build_lstm_classifier(None, train.features.shape[-1]),
                 lambda d: d.features, "LSTM (question 4)"),
        "lstm_attention": (lambda: models.build_lstm_attention_model(
            item_vocab_size=int(data.item_ids.max()) + 1), lambda d: d.inputs(),
            "LSTM + attention (section 4)"),
    }
    for name, (build, inputs, label) in keras_models.items():
        model, _, seconds = fit_best(
            build(), inputs(train), train.labels, (inputs(val), val.labels), epochs=epochs
        )
        curves[label] = model.predict(inputs(test), batch_size=2048, verbose=0)[:, 0]
        results[name] = {"train_seconds": round(seconds, 1), "params": model.count_params()}
        _say(f"      {label}: {seconds:.0f} s")

    _say("[5/5] scoring the test users")
    for (name, row), probs in zip(results.items(), curves.values(), strict=True):
        row.update(score(test.labels, probs))
        _say(f"      {name:22s} ROC-AUC {row['roc_auc']:.4f}  PR-AUC {row['pr_auc']:.4f}")
    report["test_positive_rate"] = round(float(test.labels.mean()), 4)
    report["models"] = results
    report["total_seconds"] = round(time.perf_counter() - start, 1)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    _figure(test.labels, curves, out / "report.png")
    _say(f"report: {out / 'report.json'}, {out / 'report.png'} "
         f"({report['total_seconds']} s in all)")
    return report


def _figure(labels, curves, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers import plots

    plots.roc_pr_curves(labels, curves)
    plt.tight_layout()
    plt.savefig(path, dpi=100)
    plt.close("all")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=sorted(LOADERS), help="which log format")
    parser.add_argument("path", help="the log file (.csv, .csv.gz, .zip)")
    parser.add_argument("--out", default="real-data-report", help="folder for the report")
    parser.add_argument("--max-len", type=int, default=50, help="events kept per user")
    parser.add_argument("--max-users", type=int, default=200_000,
                        help="random sample of users to train on; 0 = all (default 200,000)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--nrows", type=int, default=None, help="read only the first lines")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        run(args.kind, args.path, out=args.out, max_len=args.max_len,
            max_users=args.max_users or None, epochs=args.epochs, nrows=args.nrows,
            seed=args.seed)
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
