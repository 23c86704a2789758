"""setup_notebook(): seeds, version check with a fix, quiet TensorFlow start-up."""

import subprocess
import sys

import numpy as np
import pytest

from helpers import setup


def test_same_seed_same_numbers():
    setup.setup_notebook(7, quiet=True)
    first = np.random.rand(3)
    setup.setup_notebook(7, quiet=True)
    assert np.array_equal(first, np.random.rand(3))


def test_prints_and_returns_versions(capsys):
    versions = setup.setup_notebook()
    assert {"python", "tensorflow", "keras", "numpy", "seed"} <= versions.keys()
    assert f"keras {versions['keras']}" in capsys.readouterr().out


def test_too_old_tensorflow_names_the_fix(monkeypatch):
    monkeypatch.setattr(setup, "MIN_TENSORFLOW", (99, 0))
    with pytest.raises(RuntimeError, match=r"need >= 2\.16.*make lab"):
        setup.setup_notebook()


def test_tensorflow_start_up_lines_are_silenced():
    code = "import helpers; helpers.setup_notebook(); import sys; print('after', file=sys.stderr)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "absl" not in run.stderr and "oneDNN" not in run.stderr
    assert "after" in run.stderr  # stderr itself still works afterwards
