"""Tests for helpers.doctor: every check passes here, and fails with the right fix when broken.

TensorFlow is imported only once, by the subprocess run of the whole doctor; the other
TensorFlow tests feed the checks a probe result (the dict the child process reports).
"""

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import doctor, setup
from helpers.doctor import (
    FIX_BACKEND,
    FIX_CPU,
    FIX_TENSORFLOW_FIRST,
    LIBRARIES,
    CheckResult,
    TensorFlowProbe,
    check_cdnow,
    check_helpers_install,
    check_keras,
    check_library,
    check_notebooks,
    check_python,
    check_simulator,
    check_tensorflow,
    check_training,
    check_workspace,
    read_pins,
)

REPO_ROOT = Path(doctor.__file__).resolve().parent.parent
INSTALL_FIX = "pip install -r requirements.txt"
GOOD_PROBE = {
    "tensorflow": "2.21.0",
    "keras": "3.15.1",
    "backend": "tensorflow",
    "import_seconds": 4.0,
    "loss": 0.69,
    "train_seconds": 0.5,
}
PINS = {"tensorflow-cpu": "2.21.0", "keras": "3.15.1"}


def assert_not_ok(result: CheckResult, fix_part: str, detail_part: str = "") -> None:
    assert isinstance(result, CheckResult)
    assert not result.ok, result
    assert fix_part in result.fix, result.fix
    assert detail_part in result.detail, result.detail


# --- pins ---------------------------------------------------------------------------------


def test_read_pins_keeps_the_lines_for_this_platform(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# comment\n"
        'foo==1.0; sys_platform == "no-such-platform"\n'
        'foo==2.0; python_version >= "3"\n'
        "Bar_Baz==3.1  # trailing comment\n"
        "-e .\n"
        "loose>=1\n",
        encoding="utf-8",
    )
    assert read_pins(requirements) == {"foo": "2.0", "bar-baz": "3.1"}
    assert read_pins(tmp_path / "absent.txt") == {}


def test_real_pins_match_what_is_installed_here():
    pins = read_pins()
    for dist in ["keras", "numpy", "pandas", "lifetimes"]:
        assert pins[dist] == importlib.metadata.version(dist)


def test_minimum_tensorflow_agrees_with_setup_notebook():
    assert doctor.MIN_TENSORFLOW == setup.MIN_TENSORFLOW
    assert doctor.KERAS_MAJOR == setup.KERAS_MAJOR


# --- Python and libraries -----------------------------------------------------------------


def test_python_ok_here():
    assert check_python().ok


@pytest.mark.parametrize("version", [(3, 9, 18), (3, 14, 0), (2, 7, 18)])
def test_python_outside_the_range_is_not_ok(version):
    result = check_python(version)
    assert_not_ok(result, "make PYTHON=python3.12", ".".join(map(str, version)))


@pytest.mark.parametrize("dist", list(LIBRARIES))
def test_each_library_ok_here_with_its_installed_version(dist):
    result = check_library(dist)
    assert result.ok, result
    assert result.detail.startswith(importlib.metadata.version(dist))


@pytest.mark.parametrize("dist", list(LIBRARIES))
def test_missing_library_is_not_ok(dist, monkeypatch):
    def fake_import(name):
        if name == LIBRARIES[dist]:
            raise ModuleNotFoundError(f"No module named '{name}'")
        return __import__(name)

    monkeypatch.setattr(doctor, "_import", fake_import)
    assert_not_ok(check_library(dist), INSTALL_FIX, "not importable")


def test_library_version_differing_from_its_pin_is_not_ok():
    result = check_library("numpy", pins={"numpy": "0.0.1"})
    assert_not_ok(result, INSTALL_FIX, "pins 0.0.1")
    assert "make clean && make lab" in result.fix


def test_library_without_a_pin_only_needs_to_import():
    assert check_library("numpy", pins={}).ok


# --- helpers, data, notebooks, workspace -----------------------------------------------


def test_helpers_installed_editable_from_this_repo():
    result = check_helpers_install()
    assert result.ok, result
    assert str(REPO_ROOT) in result.detail


def test_helpers_from_another_folder_is_not_ok(tmp_path):
    assert_not_ok(check_helpers_install(tmp_path), "pip install -e .", "not from this repository")


def test_simulator_ok_here():
    result = check_simulator()
    assert result.ok and "300 sessions" in result.detail, result


def test_a_crashing_check_becomes_not_ok(monkeypatch):
    import helpers.data

    def broken(*args, **kwargs):
        raise RuntimeError("simulator exploded\nsecond line")

    monkeypatch.setattr(helpers.data, "make_dataset", broken)
    result = check_simulator()
    assert_not_ok(result, INSTALL_FIX, "RuntimeError: simulator exploded")
    assert "second line" not in result.detail


def test_cdnow_present_here_without_importing_lifetimes():
    had_lifetimes = "lifetimes" in sys.modules
    result = check_cdnow()
    assert result.ok, result
    with doctor.cdnow_file().open("rb") as handle:
        purchases = sum(1 for _ in handle) - 1
    assert f"{purchases:,} purchases" in result.detail
    assert ("lifetimes" in sys.modules) == had_lifetimes


def test_missing_cdnow_file_is_not_ok(tmp_path):
    result = check_cdnow(tmp_path / "CDNOW_master.txt", pins={"lifetimes": "0.11.3"})
    assert_not_ok(result, "pip install lifetimes==0.11.3", "is missing")


def test_missing_lifetimes_package_is_not_ok(monkeypatch):
    def no_distribution(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", no_distribution)
    assert_not_ok(check_cdnow(pins={"lifetimes": "0.11.3"}), "pip install lifetimes", "lifetimes")


def test_notebooks_folder(tmp_path):
    assert check_notebooks().ok
    assert_not_ok(check_notebooks(tmp_path), "git checkout -- notebooks/")


def test_workspace_status(tmp_path):
    shutil.copytree(REPO_ROOT / "notebooks", tmp_path / "notebooks")
    result = check_workspace(tmp_path)
    assert result.ok and "make workspace" in result.detail
    from helpers.workspace import sync_workspace

    sync_workspace(tmp_path / "notebooks", tmp_path / "my-work")
    result = check_workspace(tmp_path)
    assert result.ok and "0 notebook(s) you edited" in result.detail, result
    (tmp_path / "my-work" / ".workspace.json").write_text("{broken", encoding="utf-8")
    assert_not_ok(check_workspace(tmp_path), "helpers.workspace", "damaged")


# --- TensorFlow, Keras, training step (from a probe result) -----------------------------


def test_tensorflow_checks_ok_on_a_good_probe():
    for result in [
        check_tensorflow(GOOD_PROBE, PINS),
        check_keras(GOOD_PROBE, PINS),
        check_training(GOOD_PROBE),
    ]:
        assert result.ok, result


@pytest.mark.parametrize(
    ("change", "check", "fix", "detail"),
    [
        ({"tensorflow": "2.20.0"}, check_tensorflow, INSTALL_FIX, "pins 2.21.0"),
        ({"tensorflow": "2.15.1"}, check_tensorflow, INSTALL_FIX, "need TensorFlow >= 2.16"),
        ({"keras": "2.15.0"}, check_keras, INSTALL_FIX, "need Keras 3"),
        ({"keras": "3.10.0"}, check_keras, INSTALL_FIX, "pins 3.15.1"),
        ({"backend": "jax"}, check_keras, FIX_BACKEND, "backend is jax"),
        ({"train_error": "ValueError: boom"}, check_training, INSTALL_FIX, "boom"),
        ({"loss": float("nan")}, check_training, INSTALL_FIX, "loss nan"),
    ],
)
def test_tensorflow_checks_not_ok(change, check, fix, detail):
    probe = {**GOOD_PROBE, **change}
    args = (probe,) if check is check_training else (probe, PINS)
    assert_not_ok(check(*args), fix, detail)


def test_import_error_fails_all_three_tensorflow_checks_with_one_fix():
    probe = {"error": "ModuleNotFoundError: No module named 'tensorflow'"}
    assert_not_ok(check_tensorflow(probe, PINS), INSTALL_FIX, "No module named 'tensorflow'")
    for result in [check_keras(probe, PINS), check_training(probe)]:
        assert_not_ok(result, FIX_TENSORFLOW_FIRST, "TensorFlow did not import")


def test_keras_backend_set_to_a_missing_backend_names_the_variable():
    probe = {**GOOD_PROBE, "backend_env": "jax", "keras_error": "ModuleNotFoundError: jax"}
    del probe["keras"], probe["backend"]
    assert check_tensorflow(probe, PINS).ok  # TensorFlow itself is fine
    assert_not_ok(check_keras(probe, PINS), FIX_BACKEND, "KERAS_BACKEND=jax")
    assert_not_ok(check_training(probe), FIX_BACKEND, "KERAS_BACKEND=jax")


def test_a_crash_while_importing_tensorflow_is_reported_not_fatal():
    # what an x86 TensorFlow wheel does on a CPU without AVX: SIGILL kills the process
    crash = "import os, signal; os.kill(os.getpid(), signal.SIGILL)"
    probe = TensorFlowProbe([sys.executable, "-c", crash]).result()
    assert probe["signal"] == "SIGILL"
    assert_not_ok(check_tensorflow(probe, PINS), FIX_CPU, "crashed")
    assert_not_ok(check_training(probe), FIX_TENSORFLOW_FIRST)


def test_a_python_that_cannot_start_is_reported(tmp_path):
    probe = TensorFlowProbe([str(tmp_path / "no-such-python")]).result()
    assert_not_ok(check_tensorflow(probe, PINS), INSTALL_FIX, "could not start Python")


def test_crash_names():
    assert doctor._crash_name(-4) == "SIGILL" and doctor._crash_name(0xC000001D) == "SIGILL"
    assert doctor._crash_name(-9) == "SIGKILL"
    assert doctor._crash_name(0) is None and doctor._crash_name(1) is None


def test_garbled_probe_output_is_not_ok():
    probe = TensorFlowProbe([sys.executable, "-c", "import sys; sys.exit('bad news')"]).result()
    assert_not_ok(check_tensorflow(probe, PINS), INSTALL_FIX, "bad news")


# --- main -----------------------------------------------------------------------------


class FakeProbe:
    def __init__(self, result):
        self._result = result

    def start(self):
        return self

    def result(self):
        return self._result


def test_main_exits_1_and_prints_the_fix_when_a_check_fails(monkeypatch, capsys):
    def fake_import(name):
        if name == "pandas":
            raise ModuleNotFoundError("No module named 'pandas'")
        return __import__(name)

    monkeypatch.setattr(doctor, "_import", fake_import)
    monkeypatch.setattr(doctor, "TensorFlowProbe", lambda: FakeProbe(GOOD_PROBE))
    assert doctor.main([]) == 1
    out = capsys.readouterr().out
    pandas_line = next(line for line in out.splitlines() if "pandas" in line)
    assert pandas_line.split()[:3] == ["NOT", "OK", "pandas"]
    assert f"fix: {doctor.fix_install()}" in out
    n_checks = 4 + len(LIBRARIES) + 5  # Python, TF, Keras, training; libraries; the rest
    assert f"1 of {n_checks} checks NOT OK" in out


def test_doctor_runs_here_and_every_check_is_ok():
    """The real thing, TensorFlow child process included (the slow test: ~10 s)."""
    run = subprocess.run(
        [sys.executable, "-m", "helpers.doctor"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    names = [
        "Python",
        "TensorFlow",
        "Keras",
        "training step",
        *LIBRARIES,
        "helpers package",
        "simulated data",
        "CDNOW data",
        "notebooks/",
        "workspace",
    ]
    table = {}
    for line in run.stdout.splitlines():
        for name in names:
            if f"  {name}  " in f"{line}  ":
                table.setdefault(name, line)
    assert set(table) == set(names), run.stdout
    for line in table.values():
        assert line.split()[0] == "ok", line
    assert f"All {len(names)} checks ok" in run.stdout


def test_a_python_other_than_the_existing_venv_is_told_to_use_it(tmp_path, monkeypatch):
    """Run with a global Python while .venv exists: name .venv, suggest no global install."""
    repo = tmp_path / "repo"
    (repo / ".venv").mkdir(parents=True)
    (repo / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.setattr(doctor, "REPO_ROOT", repo)  # this interpreter is not repo/.venv
    monkeypatch.chdir(repo)
    venv_python = str(Path(".venv") / "bin" / "python")
    assert doctor.fix_install().startswith(f"use the project's .venv: {venv_python} -m helpers")
    assert "pip install" not in doctor.fix_install() + doctor.fix_editable()
    failed = CheckResult("pandas", False, "not importable", doctor.fix_install())
    text = doctor.format_results([check_python(), failed], 0.1)
    lines = text.splitlines()
    assert lines[1].startswith("note: ") and ".venv" in lines[1], text
    assert f"Run the check with the project's .venv: {venv_python} -m helpers.doctor" in text


def test_no_venv_hint_when_running_in_the_project_venv(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor, "REPO_ROOT", tmp_path)  # no .venv there
    assert "pip install -r requirements.txt" in doctor.fix_install()
    assert not doctor.format_results([check_python()], 0.1).splitlines()[1].startswith("note")
