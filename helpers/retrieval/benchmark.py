"""``python -m helpers.benchmark --task retrieval [--json]``: every retrieval loss on one split.

All models share the simulated catalogue, the training users and the test users
(:mod:`helpers.retrieval.simulator`), the same two-tower architecture, dimension,
epochs and batch size; only the loss (which items are the negatives) changes,
plus one multi-interest user tower. Metrics rank the whole catalogue. The
``oracle`` row ranks by the simulator's true next-item distribution given the
hidden interests: the ceiling.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

N_ITEMS, N_CATEGORIES, ZIPF = 5000, 50, 0.8
N_TRAIN, N_TEST = 40_000, 5_000
EPOCHS, BATCH_SIZE, DIM = 4, 1024, 32
MODELS = ("full_softmax", "sampled_softmax", "in_batch", "in_batch_logq", "bce_one_negative",
          "hard_negatives", "multi_interest")  # fmt: skip


def make_split(n_train=N_TRAIN, n_test=N_TEST, n_items=N_ITEMS, n_categories=N_CATEGORIES,
               seed=0, catalogue_seed=None):  # fmt: skip
    """The simulated catalogue and its (train, test) users; ``catalogue_seed`` (default
    ``seed``) fixes the catalogue while ``seed`` draws other users."""
    from helpers.retrieval.simulator import make_catalogue, make_retrieval_data

    catalogue_seed = seed if catalogue_seed is None else catalogue_seed
    catalogue = make_catalogue(n_items, n_categories, ZIPF, seed=catalogue_seed)
    data = make_retrieval_data(n_train + n_test, catalogue, seed=seed)
    return data.subset(np.arange(n_train)), data.subset(np.arange(n_train, n_train + n_test))


def train_and_score(name, train, test, head, *, epochs=EPOCHS, batch_size=BATCH_SIZE, dim=DIM,
                    seed=0, **options):  # fmt: skip
    """Build, train and score one model of :data:`MODELS` → ``(model, row)``; the row
    holds the full-ranking report and ``train_seconds``. ``multi_interest`` is the
    logQ in-batch loss with 4 interest vectors."""
    from helpers.retrieval import metrics, towers

    if name not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {name!r}")
    multi = name == "multi_interest"
    model = towers.build_two_tower(train.catalogue.item_category, train.target,
                                   loss="in_batch_logq" if multi else name, dim=dim,
                                   history_len=train.history.shape[1],
                                   n_interests=4 if multi else 1, seed=seed, **options)  # fmt: skip
    seconds = towers.fit_two_tower(model, train, epochs=epochs, batch_size=batch_size,
                                   seed=seed)  # fmt: skip
    report = metrics.ranking_report(towers.user_vectors(model, test.history),
                                    model.item_table(), test.target, head)  # fmt: skip
    return model, {"model": name, **report, "train_seconds": round(seconds, 1)}


def run(n_train=N_TRAIN, n_test=N_TEST, n_items=N_ITEMS, n_categories=N_CATEGORIES,
        epochs=EPOCHS, seed=0, models=MODELS, quiet=True,
        batch_size=BATCH_SIZE) -> list[dict]:  # fmt: skip
    """Train and score every model; one dict per model (plus ``popularity``, ``oracle``)."""
    from helpers.retrieval import metrics
    from helpers.setup import setup_notebook

    setup_notebook(seed, quiet=quiet)
    train, test = make_split(n_train, n_test, n_items, n_categories, seed)
    n = train.catalogue.n_items
    head = metrics.head_items(train.target, n)
    common = {"test_users": len(test), "n_items": n}
    pop = np.broadcast_to(metrics.popularity_scores(train.target, n), (len(test), n + 1))
    rows = [{"model": "popularity", **metrics.report_from_ranks(
        metrics.target_ranks(pop, test.target), test.target, head), "train_seconds": 0.0,
        **common}]  # fmt: skip
    for name in models:
        _, row = train_and_score(name, train, test, head, epochs=epochs, seed=seed,
                                 batch_size=batch_size)  # fmt: skip
        rows.append({**row, **common})
    oracle = {f"recall_at_{k}": round(test.oracle_recall(k), 4) for k in (10, 50)}
    note = "expected recall of the true next-item distribution given the hidden interests"
    rows.append({"model": "oracle", **oracle, "ndcg_at_10": None, "train_seconds": 0.0,
                 "note": note, **common})  # fmt: skip
    return rows


def format_table(rows) -> str:
    columns = ["model", "recall_at_10", "recall_at_50", "ndcg_at_10", "recall_at_50_head",
               "recall_at_50_tail", "head_share_top_50", "train_seconds"]  # fmt: skip
    cells = [[str(r.get(c)) if r.get(c) is not None else "—" for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument("--n-train", type=int, default=N_TRAIN)
    parser.add_argument("--n-test", type=int, default=N_TEST)
    parser.add_argument("--n-items", type=int, default=N_ITEMS)
    parser.add_argument("--n-categories", type=int, default=N_CATEGORIES)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = run(args.n_train, args.n_test, args.n_items, args.n_categories, args.epochs,
               args.seed, tuple(args.models), batch_size=args.batch_size)  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(format_table(rows))
    print(f"\n{rows[0]['test_users']} test users, {rows[0]['n_items']} items, full ranking; "
          f"total {time.perf_counter() - start:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
