"""The training-budget benchmark (notebook 07's comparison under other budgets), on tiny runs.

Its findings come from the full run reported in README, not from here.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import budget_benchmark as bb
from helpers import transformers as tr
from helpers.data import make_dataset, split_by_user
from helpers.models import build_lstm_attention_model
from helpers.training import score

TINY = 1500  # sessions: enough purchases in the test split for every bootstrap resample


@pytest.fixture(scope="module")
def rows():
    return bb.run({"all": (1, 1.0), "half": (1, 0.5)}, seeds=(1,), n_sequences=TINY)


def test_rows_hold_both_models_and_the_difference(rows):
    assert [row["budget"] for row in rows] == ["all", "half"]
    for row in rows:
        assert 0 <= row["bst_roc_auc"] <= 1 and 0 <= row["lstm_attention_roc_auc"] <= 1
        assert row["difference"] == round(row["lstm_attention_roc_auc"] - row["bst_roc_auc"], 4)
        assert row["interval_low"] < row["interval_high"]
        assert row["best_epoch_lstm_attention"] == row["best_epoch_bst"] == 1
    assert len({row["test_sessions"] for row in rows}) == 1  # one test split for every row


def test_half_the_sessions_trains_on_half(rows):
    full, half = rows
    assert half["train_sessions"] == round(full["train_sessions"] / 2)
    assert full["updates"] == -(-full["train_sessions"] // bb.BATCH_SIZE)  # 1 epoch
    assert half["updates"] == -(-half["train_sessions"] // bb.BATCH_SIZE)


def test_the_full_budget_is_notebook_07s_training(rows):
    # every session kept, in its order: the same runs as fit_best_over_seeds on the split itself
    data = make_dataset(TINY, seed=0)
    train, val, test = split_by_user(data, bb.SPLIT, seed=0)
    notebook_07 = {
        "lstm_attention": lambda: build_lstm_attention_model(learning_rate=1e-2),
        "bst": lambda: tr.build_bst_classifier(data.n_items, max_len=data.max_len),
    }
    for name, build in notebook_07.items():
        runs, _ = tr.fit_best_over_seeds(build, train.inputs(), train.labels,
                                         (val.inputs(), val.labels), (1,), test.inputs(),
                                         epochs=1, batch_size=bb.BATCH_SIZE)  # fmt: skip
        assert rows[0][f"{name}_roc_auc"] == score(test.labels, runs[1][0])["roc_auc"], name


def test_verdicts_count_seeds_and_clear_intervals():
    rows = [
        {"budget": "b", "difference": 0.04, "interval_low": 0.01, "interval_high": 0.07},
        {"budget": "b", "difference": -0.02, "interval_low": -0.05, "interval_high": 0.01},
        {"budget": "b", "difference": -0.03, "interval_low": -0.06, "interval_high": -0.01},
    ]
    assert bb.verdicts(rows) == {
        "b": "LSTM + attention ahead on 1 of 3 seeds, BST on 2; 2 of 3 intervals exclude 0"
    }


def test_a_bad_budget_is_refused_before_any_training():
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        bb.run({"none": (0, 1.0)})
    with pytest.raises(ValueError, match=r"share in \(0, 1\]"):
        bb.run({"nothing": (5, 0.0)})


def test_too_few_sessions_are_refused_with_the_purchase_counts():
    with pytest.raises(ValueError, match=r"100 sessions are too few: .* \d+ and \d+ purchases"):
        bb.run({"all": (1, 1.0)}, seeds=(1,), n_sequences=100)


def test_command_line_json_and_unknown_budget():
    command = [sys.executable, "-m", "helpers.benchmark", "--task", "budget"]
    out = subprocess.run(command + ["--budgets", "3-epochs", "--seeds", "2", "--n-sequences",
                                    str(TINY), "--json"],
                         capture_output=True, text=True, check=True, timeout=600)  # fmt: skip
    (row,) = json.loads(out.stdout)
    assert (row["budget"], row["epochs"], row["seed"]) == ("3-epochs", 3, 2)
    assert 1 <= row["best_epoch_bst"] <= 3 and np.isfinite(row["difference"])
    wrong = subprocess.run(command + ["--budgets", "10-epochs"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "invalid choice: '10-epochs'" in wrong.stderr
    tiny = subprocess.run(command + ["--n-sequences", "100"], capture_output=True, text=True)
    assert tiny.returncode == 2 and "too few" in tiny.stderr and "Traceback" not in tiny.stderr
