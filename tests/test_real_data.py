"""The real-data command end to end on a generated Taobao-shaped file, the generator and
the loader benchmark's plumbing (the benchmark's numbers are measured, not tested)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import loader_benchmark, real_data
from helpers.loaders import load_taobao_user_behavior
from helpers.synthetic_logs import write_taobao_like


@pytest.fixture(scope="module")
def small_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "UserBehavior.csv"
    write_taobao_like(path, 12_000, users=600, n_items=3_000, n_categories=50, seed=1)
    return path


def test_generator_writes_the_requested_shape(tmp_path):
    path = tmp_path / "log.csv"
    info = write_taobao_like(path, 5_000, users=120, n_items=500, n_categories=20, seed=3)
    lines = path.read_text().splitlines()
    assert len(lines) == info["lines"] == 5_000
    fields = [line.split(",") for line in lines]
    assert {len(f) for f in fields} == {5}
    assert len({f[0] for f in fields}) == 120
    behaviors = np.array([f[3] for f in fields])
    assert abs(np.mean(behaviors == "buy") - 0.021) < 0.01
    users = np.array([int(f[0]) for f in fields])
    assert np.all(np.diff(users) >= 0), "lines are grouped by user, as in the real file"
    # every item belongs to one category
    pairs = {(f[1], f[2]) for f in fields}
    assert len(pairs) == len({f[1] for f in fields})
    # the same seed gives the same bytes
    again = tmp_path / "again.csv"
    write_taobao_like(again, 5_000, users=120, n_items=500, n_categories=20, seed=3)
    assert again.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("lines, users", [(0, None), (10, 11), (10, 0)])
def test_generator_rejects_impossible_shapes(tmp_path, lines, users):
    with pytest.raises(ValueError, match="must be"):
        write_taobao_like(tmp_path / "x.csv", lines, users=users)


def test_real_data_command_end_to_end(small_log, tmp_path):
    report = real_data.run(
        "taobao", small_log, out=tmp_path / "report", max_len=20, epochs=1, max_users=None
    )
    written = json.loads((tmp_path / "report" / "report.json").read_text())
    assert written == json.loads(json.dumps(report))
    assert (tmp_path / "report" / "report.png").stat().st_size > 1_000
    expected_users = len(load_taobao_user_behavior(small_log, max_len=20))
    assert written["users"] == written["users_used"] == expected_users
    assert sum(written["split_users"].values()) == expected_users
    assert set(written["models"]) == {"order_blind_logistic", "lstm", "lstm_attention"}
    for row in written["models"].values():
        assert 0.0 <= row["roc_auc"] <= 1.0 and 0.0 <= row["pr_auc"] <= 1.0


def test_real_data_command_samples_users(small_log, tmp_path):
    report = real_data.run(
        "taobao", small_log, out=tmp_path / "r", max_len=10, epochs=1, max_users=200
    )
    assert report["users_used"] == 200 < report["users"]


def test_real_data_command_reports_a_bad_line_without_a_traceback(tmp_path):
    path = tmp_path / "UserBehavior.csv"
    path.write_text("1,2,3,pv,1511544070\n1,2,3,click,1511544071\n")
    done = subprocess.run(
        [sys.executable, "-m", "helpers.real_data", "taobao", str(path), "--out",
         str(tmp_path / "r")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "line 2: unknown behavior_type 'click'" in done.stderr


def test_real_data_rejects_a_bad_kind(small_log):
    with pytest.raises(ValueError, match="kind must be one of"):
        real_data.run("amazon", small_log)


def test_loader_benchmark_measures_both_readers(small_log):
    rows = loader_benchmark.run([(small_log, 12_000, 600)], quiet=True)
    (row,) = rows
    assert row["sequences"] == len(load_taobao_user_behavior(small_log))
    assert row["loader_seconds"] > 0 and row["read_csv_seconds"] > 0
    assert row["loader_over_read_csv"] == pytest.approx(
        row["loader_seconds"] / row["read_csv_seconds"], rel=0.05
    )
    assert row["loader_peak_gb"] > 0
