"""Benchmark: does notebook 07's LSTM-vs-Transformer ranking survive another training budget?

``python -m helpers.benchmark --task budget [--json] [--budgets ...] [--seeds ...]``.
Notebook 07's data and split (``make_dataset(14_000, seed=0)``, users split 0.6 / 0.1 /
0.3 with seed 0), its two models (LSTM + attention at learning rate 1e-2, the BST-style
Transformer at its builder's defaults) and its training (``fit_best_over_seeds``: batch
256, the best validation epoch kept), under several budgets:

- ``5-epochs``: the notebook's own budget, every training session;
- ``3-epochs`` and ``9-epochs``: fewer and more passes over the same sessions;
- ``half-sessions``: 5 epochs on a random half of the training sessions (seed 0).

Each row is one budget and seed: both models' test ROC-AUC, the difference (LSTM +
attention minus BST) and its 95 % paired bootstrap interval over the test sessions (200
resamples, the same for every row). The test split is the same in every row, so a
change of sign between rows comes from the budget or the seed, not from the test set.
The ``5-epochs`` rows repeat notebook 07's table to the digit (``main`` applies the
notebook's set-up, ``helpers.setup_notebook``). About 4 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

N_SEQUENCES = 14_000  # notebook 07's data
SPLIT = (0.6, 0.1, 0.3)
SEEDS = (1, 2, 3)
BATCH_SIZE = 256
# budget name -> (epochs, share of the training sessions kept)
BUDGETS = {
    "5-epochs": (5, 1.0),
    "3-epochs": (3, 1.0),
    "9-epochs": (9, 1.0),
    "half-sessions": (5, 0.5),
}
BOOTSTRAP_RESAMPLES = 200
MIN_PURCHASES = 5  # in the validation and in the test split


def run(budgets=None, seeds=SEEDS, n_sequences=N_SEQUENCES) -> list[dict]:
    """One dict per (budget, seed). ``budgets``: {name: (epochs, share of the training
    sessions)}, by default :data:`BUDGETS`. For notebook 07's exact numbers call
    ``helpers.setup_notebook()`` first, as :func:`main` does."""
    from helpers import transformers as tr
    from helpers.data import make_dataset, split_by_user
    from helpers.models import build_lstm_attention_model
    from helpers.training import bootstrap_roc_auc, score

    budgets = BUDGETS if budgets is None else budgets
    for name, (epochs, share) in budgets.items():
        if int(epochs) < 1 or not 0 < share <= 1:
            raise ValueError(f"budget {name!r}: epochs must be >= 1 and the share in (0, 1], "
                             f"got {epochs!r} and {share!r}")  # fmt: skip
    data = make_dataset(n_sequences, seed=0)
    train, val, test = split_by_user(data, SPLIT, seed=0)
    if min(val.labels.sum(), test.labels.sum()) < MIN_PURCHASES:
        raise ValueError(
            f"{n_sequences} sessions are too few: the validation and test splits hold "
            f"{int(val.labels.sum())} and {int(test.labels.sum())} purchases, and ROC-AUC and "
            f"its bootstrap need at least {MIN_PURCHASES} in each (about 1,500 sessions do)"
        )
    builders = {
        "lstm_attention": lambda: build_lstm_attention_model(learning_rate=1e-2),
        "bst": lambda: tr.build_bst_classifier(data.n_items, max_len=data.max_len),
    }
    # (resamples, test sessions): the same resampled test sets for every row
    resamples = np.random.default_rng(0).integers(0, len(test), (BOOTSTRAP_RESAMPLES, len(test)))
    rows = []
    for budget, (epochs, share) in budgets.items():
        shuffled = np.random.default_rng(0).permutation(len(train))
        part = train.subset(np.sort(shuffled[: round(share * len(train))]))  # order kept
        runs = {
            name: tr.fit_best_over_seeds(build, part.inputs(), part.labels,
                                         (val.inputs(), val.labels), seeds, test.inputs(),
                                         epochs=int(epochs), batch_size=BATCH_SIZE)[0]
            for name, build in builders.items()
        }  # fmt: skip
        for seed in seeds:
            # each run: (test probabilities (n,), seconds of training, best epoch)
            (lstm, lstm_s, lstm_epoch), (bst, bst_s, bst_epoch) = (runs[m][seed] for m in builders)
            lstm_auc = score(test.labels, lstm)["roc_auc"]
            bst_auc = score(test.labels, bst)["roc_auc"]
            differences = (bootstrap_roc_auc(test.labels, lstm, resamples)
                           - bootstrap_roc_auc(test.labels, bst, resamples))  # fmt: skip
            low, high = np.percentile(differences, [2.5, 97.5])
            rows.append({
                "budget": budget, "epochs": int(epochs), "train_sessions": len(part),
                "updates": int(epochs) * -(-len(part) // BATCH_SIZE), "seed": seed,
                "lstm_attention_roc_auc": lstm_auc, "bst_roc_auc": bst_auc,
                "difference": round(lstm_auc - bst_auc, 4),
                "interval_low": round(float(low), 4), "interval_high": round(float(high), 4),
                "best_epoch_lstm_attention": lstm_epoch, "best_epoch_bst": bst_epoch,
                "train_seconds": round(lstm_s + bst_s, 1), "test_sessions": len(test),
            })  # fmt: skip
    return rows


def verdicts(rows: list[dict]) -> dict[str, str]:
    """{budget: one line}: on how many seeds each model leads, and how many intervals
    exclude zero."""
    lines = {}
    for budget in dict.fromkeys(row["budget"] for row in rows):
        mine = [row for row in rows if row["budget"] == budget]
        lstm_ahead = sum(row["difference"] > 0 for row in mine)
        bst_ahead = sum(row["difference"] < 0 for row in mine)
        clear = sum(row["interval_low"] > 0 or row["interval_high"] < 0 for row in mine)
        lines[budget] = (
            f"LSTM + attention ahead on {lstm_ahead} of {len(mine)} seeds, BST on "
            f"{bst_ahead}; {clear} of {len(mine)} intervals exclude 0"
        )
    return lines


def format_table(rows: list[dict]) -> str:
    head = (f"{'budget':18s} {'seed':>4s} {'updates':>7s} {'LSTM+att':>8s} {'BST':>7s} "
            f"{'LSTM-BST':>8s}  {'95% bootstrap':>17s}  best epoch L/B")  # fmt: skip
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['budget']:18s} {r['seed']:4d} {r['updates']:7d} "
            f"{r['lstm_attention_roc_auc']:8.4f} {r['bst_roc_auc']:7.4f} {r['difference']:+8.4f}  "
            f"{r['interval_low']:+.4f} to "
            f"{r['interval_high']:+.4f}  {r['best_epoch_lstm_attention']}/{r['best_epoch_bst']} "
            f"of {r['epochs']}"
        )
    return "\n".join(lines)


def main(argv=None):
    from helpers.benchmark import machine
    from helpers.setup import setup_notebook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument("--budgets", nargs="+", choices=list(BUDGETS), default=list(BUDGETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--n-sequences", type=int, default=N_SEQUENCES)
    args = parser.parse_args(argv)
    setup_notebook(quiet=True)  # notebook 07's TensorFlow settings: its numbers, to the digit
    start = time.perf_counter()
    try:
        rows = run({name: BUDGETS[name] for name in args.budgets}, tuple(args.seeds),
                   args.n_sequences)  # fmt: skip
    except ValueError as problem:
        parser.error(str(problem))  # one line and exit status 2, no traceback
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(format_table(rows))
    print(f"\nROC-AUC on the same {rows[0]['test_sessions']} test sessions in every row; "
          "updates = epochs x batches of 256.")  # fmt: skip
    for budget, line in verdicts(rows).items():
        print(f"{budget:18s} {line}")
    print(f"Machine: {machine()}; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
