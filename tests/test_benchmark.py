"""The benchmark's JSON contract, on a tiny run.

Quality is measured by the full run (see README), not here.
"""

import json
import subprocess
import sys

import pytest

REQUIRED = {"model", "order_aware", "roc_auc", "pr_auc", "bayes_roc_auc", "train_seconds"}


@pytest.fixture(scope="module")
def results():
    out = subprocess.run(
        [sys.executable, "-m", "helpers.benchmark", "--json"]
        + ["--n-sequences", "3000", "--epochs", "1"],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_json_lists_required_models_and_fields(results):
    names = [row["model"] for row in results]
    assert "lstm" in names and "bst_transformer" in names
    assert any(name.startswith("lstm_attention") for name in names)
    assert any(not row["order_aware"] for row in results)
    for row in results:
        assert REQUIRED <= set(row), row["model"]
        assert 0 <= row["roc_auc"] <= 1 and 0 <= row["pr_auc"] <= 1


def test_every_model_is_scored_on_the_same_split(results):
    assert len({row["bayes_roc_auc"] for row in results}) == 1
    assert len({row["test_sequences"] for row in results}) == 1


def test_table_output():
    from helpers.benchmark import format_table

    table = format_table([{"model": "m", "order_aware": True, "roc_auc": 0.5, "params": None}])
    assert table.splitlines()[0].startswith("model") and "—" in table
