"""``python -m helpers.benchmark --task ctr [--json]``: click models against the Bayes ceiling.

Two simulated data sets (:mod:`helpers.ctr.simulator`), split by user:

* ``short``: 40-event histories (``--history-len``) — ``pooling_attention`` (the article's
  query-free pooling), ``din`` (paper: no softmax), ``din_softmax`` (official code), ``dien``
  (GRU + auxiliary loss + AUGRU);
* ``long``: ``--long-history`` events (default 400) — ``din_last50`` (DIN on the most
  recent 50 events, the usual truncation), ``sim_hard`` (SIM: the 50 most recent events
  of the candidate's category, then DIN), with ``infer_ms_per_1000`` next to a DIN over
  the *whole* long history (the cost SIM avoids).

Every row: ``model``, ``data``, ``history_len``, ``roc_auc``, ``gauc``, ``bayes_roc_auc``,
``bayes_gauc``, ``log_loss``, ``train_seconds``, ``infer_ms_per_1000``, ``params``, ``seed``.
"""

from __future__ import annotations

import argparse
import json
import time

SHORT_MODELS = ("pooling_attention", "din", "din_softmax", "dien")


def _row(name, data, probs, seconds, model, seed, infer_ms):
    from sklearn.metrics import log_loss, roc_auc_score

    from helpers.metrics import gauc

    return {
        "model": name, "seed": seed, "history_len": int(data.history_len),
        "roc_auc": round(float(roc_auc_score(data.click, probs)), 4),
        "gauc": round(gauc(data.click, probs, data.user), 4),
        "bayes_roc_auc": round(data.bayes_roc_auc, 4),
        "bayes_gauc": round(data.bayes_gauc, 4),
        "log_loss": round(float(log_loss(data.click, probs)), 4),
        "bayes_log_loss": round(float(log_loss(data.click, data.p_click)), 4),
        "train_seconds": round(seconds, 1),
        "infer_ms_per_1000": infer_ms,
        "params": int(model.count_params()) if model is not None else None,
        "test_impressions": len(data), "test_users": int(len(set(data.user.tolist()))),
    }


def inference_ms(model, x, repeats=3):
    """Best-of-``repeats`` wall time of scoring the first 1000 rows of ``x``, in ms."""
    import numpy as np

    batch = {k: np.ascontiguousarray(v[:1000]) for k, v in x.items()}
    model.predict_on_batch(batch)  # trace once
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(batch)
        best = min(best, time.perf_counter() - start)
    return round(1000 * best, 1)


def run(n_users=20_000, long_users=5_000, long_history=400, epochs=3, seed=0, quiet=True,
        batch_size=256, history_len=40):
    from helpers.ctr import models as M
    from helpers.ctr.simulator import make_ctr_dataset
    from helpers.setup import setup_notebook

    setup_notebook(seed, quiet=quiet)
    rows = []
    data = make_ctr_dataset(n_users, seed, history_len=history_len)
    train, test = data.split((0.8, 0.2), seed=seed)
    for name in SHORT_MODELS:
        neg = seed + 1 if name == "dien" else None
        x_train = M.model_inputs(train, negatives_seed=neg)
        x_test = M.model_inputs(test, negatives_seed=neg)
        model = M.BUILDERS[name](data.n_items, data.n_categories, history_len=history_len)
        seconds = M.train(
            model, x_train, train.click, epochs=epochs, batch_size=batch_size, seed=seed
        )
        probs = M.predict(model, x_test)
        rows.append({**_row(name, test, probs, seconds, model, seed,
                            inference_ms(model, x_test)), "data": "short"})

    long = make_ctr_dataset(long_users, seed + 100, history_len=long_history)
    train, test = long.split((0.8, 0.2), seed=seed)
    k = 50
    variants = {
        "din_last50": lambda d: M.model_inputs(d, max_len=k),
        "sim_hard": lambda d: M.sim_hard_search(d, k),
    }
    for name, inputs in variants.items():
        model = M.build_din_model(long.n_items, long.n_categories)
        start = time.perf_counter()
        x_train = inputs(train)  # SIM's search is part of its cost
        search = time.perf_counter() - start
        seconds = search + M.train(
            model, x_train, train.click, epochs=epochs, batch_size=batch_size, seed=seed
        )
        x_test = inputs(test)
        probs = M.predict(model, x_test)
        rows.append({**_row(name, test, probs, seconds, model, seed,
                            inference_ms(model, x_test)), "data": "long", "events_used": k})
    full = M.build_din_model(long.n_items, long.n_categories)
    rows.append({
        "model": "din_full_history_cost_only", "data": "long", "seed": seed,
        "history_len": long_history, "events_used": long_history,
        "infer_ms_per_1000": inference_ms(full, M.model_inputs(test)),
        "note": "untrained: only the serving cost of attention over the whole history",
    })
    return rows


COLUMNS = ("model", "data", "history_len", "roc_auc", "gauc", "bayes_roc_auc", "bayes_gauc",
           "log_loss", "train_seconds", "infer_ms_per_1000")


def format_table(rows):
    cells = [[str(r.get(c, "—")) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m helpers.benchmark --task ctr",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--n-users", type=int, default=20_000)
    parser.add_argument("--long-users", type=int, default=5_000)
    parser.add_argument("--long-history", type=int, default=400)
    parser.add_argument("--history-len", type=int, default=40,
                        help="events per history in the short data set")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = []
    for seed in args.seeds:
        rows += run(args.n_users, args.long_users, args.long_history, args.epochs, seed,
                    batch_size=args.batch_size, history_len=args.history_len)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(format_table(rows))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
