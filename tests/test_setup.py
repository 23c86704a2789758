"""setup_notebook(): seeds, version check with a fix, quiet TensorFlow start-up."""

import subprocess
import sys
from pathlib import Path

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


def test_graph_optimiser_is_switched_off():
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": False})
    setup.setup_notebook(quiet=True)
    assert tf.config.optimizer.get_experimental_options()["disable_meta_optimizer"] is True


def test_too_old_tensorflow_names_the_fix(monkeypatch):
    monkeypatch.setattr(setup, "MIN_TENSORFLOW", (99, 0))
    with pytest.raises(RuntimeError, match=r"need >= 2\.16.*make lab"):
        setup.setup_notebook()


def test_tensorflow_start_up_lines_are_silenced():
    code = "import helpers; helpers.setup_notebook(); import sys; print('after', file=sys.stderr)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "absl" not in run.stderr and "oneDNN" not in run.stderr
    assert "after" in run.stderr  # stderr itself still works afterwards


def _fake_repo_with_venv(tmp_path):
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return tmp_path


def test_another_python_than_the_project_venv_is_named(tmp_path):
    repo = _fake_repo_with_venv(tmp_path)
    python = setup.project_venv_python(repo, prefix="/usr")
    assert python is not None and python.parent.parent == repo / ".venv"
    hint = setup.other_python_hint(repo, "-m helpers.doctor", prefix="/usr")
    assert hint.startswith("note: ") and ".venv" in hint and "-m helpers.doctor" in hint
    assert sys.executable in hint


def test_no_hint_inside_the_venv_or_without_one(tmp_path):
    repo = _fake_repo_with_venv(tmp_path)
    assert setup.project_venv_python(repo, prefix=str(repo / ".venv")) is None
    assert setup.other_python_hint(repo, "-m x", prefix=str(repo / ".venv")) == ""
    assert setup.project_venv_python(tmp_path / "no-venv-here", prefix="/usr") is None


def test_make_writes_a_kernel_config_that_hides_only_the_tcp_warning(tmp_path):
    """The Makefile's venv IPython config: ipykernel's TCP warning goes, other lines stay."""
    import logging
    import shutil

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    config, stamp = tmp_path / "etc" / "ipython_kernel_config.py", tmp_path / "stamp"
    stamp.touch()  # the venv counts as installed: only the config rule runs
    repo = Path(setup.__file__).resolve().parent.parent
    subprocess.run(["make", "-s", f"STAMP={stamp}", f"KERNEL_CONFIG={config}", str(config)],
                   cwd=repo, check=True, capture_output=True)
    logger = logging.getLogger("IPKernelApp")
    before = list(logger.filters)
    try:
        exec(config.read_text(), {"c": None})  # as IPython loads it in the kernel
        tcp = logger.makeRecord("IPKernelApp", logging.WARNING, __file__, 1,
                                "Kernel is running over TCP without encryption. All ...", (), None)
        other = logger.makeRecord("IPKernelApp", logging.WARNING, __file__, 1, "other", (), None)
        assert not logger.filter(tcp) and logger.filter(other)
    finally:
        logger.filters[:] = before
