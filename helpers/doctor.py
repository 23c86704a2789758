"""Check a laptop's set-up in one command: ``python -m helpers.doctor`` (``make check-setup``).

Every check prints one line, ``ok`` or ``NOT OK``, and each failure is followed by the
command that fixes it. Exit code 0 when everything is ok, 1 otherwise. Made for the
first ten minutes of a workshop: run it, read the fix lines, run them, run it again.

Each check is a small function returning a :class:`CheckResult`; exceptions inside a
check become a NOT OK line, never a traceback. TensorFlow is imported (and a tiny model
trained one step) in a *separate* Python process, started first so it runs while the
other checks do: a TensorFlow wheel built for another CPU can kill the process that
imports it (illegal instruction), and the doctor must survive to say so.

Expected versions come from the pins in ``requirements.txt`` (the lines that apply to
this platform); without that file, only the minimums the notebooks need are checked.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# the same minimum versions setup_notebook() enforces (helpers.setup imports no third party)
from helpers.setup import (
    KERAS_MAJOR,
    MIN_TENSORFLOW,
    other_python_hint,
    project_venv_python,
    version_tuple,
)

__all__ = ["CheckResult", "TensorFlowProbe", "main", "read_pins", "run_checks"]

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"
PYTHON_RANGE = ((3, 10), (3, 13))  # TensorFlow 2.21 publishes wheels for these
# distribution name -> import name, for the libraries the notebooks and tests import
LIBRARIES = {
    "numpy": "numpy",
    "matplotlib": "matplotlib",
    "scikit-learn": "sklearn",
    "pandas": "pandas",
    "jupyterlab": "jupyterlab",
    "nbval": "nbval",
}
CDNOW_FILE = "lifetimes/datasets/CDNOW_master.txt"
PROBE_TIMEOUT = 180  # seconds; a first TensorFlow import on a slow laptop can take ~30 s

_import = importlib.import_module  # tests replace it to simulate a missing module


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""  # a command to run, only when not ok


class Problem(Exception):
    """Raised inside a check: NOT OK, with what is wrong and (optionally) a specific fix."""

    def __init__(self, detail: str, fix: str | None = None):
        super().__init__(detail)
        self.detail, self.fix = detail, fix


def run_probe(name: str, fix: str, body: Callable[[], str]) -> CheckResult:
    """Run one check body: its return value is the ok detail; any exception is NOT OK."""
    try:
        return CheckResult(name, True, body())
    except Problem as problem:
        return CheckResult(name, False, problem.detail, problem.fix or fix)
    except Exception as error:  # a check must never crash the doctor
        message = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        return CheckResult(name, False, f"{type(error).__name__}: {message}".rstrip(": "), fix)


# --- the fix lines -----------------------------------------------------------------------


def _python_cmd() -> str:
    """This interpreter as the learner would type it (relative when under the current folder)."""
    try:
        return str(Path(sys.executable).relative_to(Path.cwd()))
    except ValueError:
        return sys.executable


def _venv_cmd() -> str | None:
    """The project's .venv Python as the learner would type it, when this is another one."""
    python = project_venv_python(REPO_ROOT)
    if python is None:
        return None
    try:
        return str(python.relative_to(Path.cwd()))
    except ValueError:
        return str(python)


def fix_install() -> str:
    venv = _venv_cmd()
    if venv:  # .venv exists: run the check with it, never install into this other Python
        return f"use the project's .venv: {venv} -m helpers.doctor   (or: make check-setup)"
    return f"{_python_cmd()} -m pip install -r requirements.txt   (or: make clean && make lab)"


def fix_python() -> str:
    return "install Python 3.12, then: make clean && make PYTHON=python3.12 lab"


def fix_editable() -> str:
    if _venv_cmd():
        return fix_install()
    return f"cd {REPO_ROOT} && {_python_cmd()} -m pip install -e .   (or: make clean && make lab)"


FIX_CPU = (  # a fix may span lines: each is printed under the previous one
    "this TensorFlow wheel cannot run on this CPU. On an Apple-silicon Mac use an arm64\n"
    "Python, not one under Rosetta: make clean && make PYTHON=/opt/homebrew/bin/python3.12 lab"
)
FIX_TENSORFLOW_FIRST = "fix the TensorFlow line first"
FIX_NOTEBOOKS = "git checkout -- notebooks/   (or regenerate them: make notebooks)"
FIX_BACKEND = "unset KERAS_BACKEND   (the notebooks use the TensorFlow backend)"


# --- pins --------------------------------------------------------------------------------


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _marker_applies(marker: str) -> bool:
    if not marker.strip():
        return True
    try:
        from packaging.markers import Marker

        return Marker(marker).evaluate()
    except Exception:  # packaging missing or a marker it cannot read: assume it applies
        return True


def read_pins(path: Path | str = REQUIREMENTS) -> dict[str, str]:
    """``{normalized distribution name: pinned version}`` for the ``name==version`` lines of
    ``path`` that apply to this platform (environment markers evaluated). ``{}`` if no file."""
    path = Path(path)
    if not path.is_file():
        return {}
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)\s*(?:;([^#]*))?", line)
        if match and _marker_applies(match.group(3) or ""):
            pins[_normalize(match.group(1))] = match.group(2)
    return pins


def _compare(found: str, pinned: str | None) -> str:
    """The detail for a found version; raises Problem when it differs from its pin."""
    if pinned is None:
        return found
    if found != pinned:
        raise Problem(f"{found}, but requirements.txt pins {pinned}", fix_install())
    return f"{found} (pinned)"


# --- checks that run in this process -------------------------------------------------------


def check_python(version: tuple = sys.version_info) -> CheckResult:
    def body():
        found = ".".join(str(part) for part in version[:3])
        low, high = PYTHON_RANGE
        if not low <= tuple(version[:2]) <= high:
            raise Problem(f"{found}: TensorFlow 2.21 needs Python 3.10-3.13")
        return f"{found}  ({_python_cmd()})"

    return run_probe("Python", fix_python(), body)


def check_library(dist: str, pins: dict[str, str] | None = None) -> CheckResult:
    """``dist`` imports, and its version matches the pin (when there is one)."""
    pins = read_pins() if pins is None else pins

    def body():
        try:
            module = _import(LIBRARIES.get(dist, dist))
        except ImportError as error:
            raise Problem(f"not importable ({error})") from None
        found = getattr(module, "__version__", None) or importlib.metadata.version(dist)
        return _compare(str(found), pins.get(_normalize(dist)))

    return run_probe(dist, fix_install(), body)


def check_helpers_install(repo_root: Path = REPO_ROOT) -> CheckResult:
    """``import helpers`` works from an unrelated folder and comes from this repository.

    Jupyter starts each kernel in the notebook's own folder (notebooks/, my-work/), so
    helpers must be installed, not found next to the current folder. Checked in a fresh
    Python process started in an empty temporary folder, without PYTHONPATH.
    """

    def body():
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        with tempfile.TemporaryDirectory() as empty:
            run = subprocess.run(
                [sys.executable, "-c", "import helpers; print(helpers.__file__)"],
                capture_output=True,
                text=True,
                cwd=empty,
                env=env,
                timeout=60,
            )
        if run.returncode != 0:
            raise Problem("not installed: notebooks cannot `import helpers` outside the repo")
        location = Path(run.stdout.strip()).resolve().parent
        if location != (Path(repo_root) / "helpers").resolve():
            raise Problem(f"imports from {location}, not from this repository")
        return f"editable install of {Path(repo_root).resolve()}"

    return run_probe("helpers package", fix_editable(), body)


def check_simulator() -> CheckResult:
    """The simulated data (every notebook's default) builds, and the same seed gives the
    same bytes."""

    def body():
        from helpers.data import make_dataset

        start = time.perf_counter()
        first = make_dataset(300, seed=0)
        seconds = time.perf_counter() - start
        again = make_dataset(300, seed=0)
        if first.item_ids.shape[0] != 300 or set(first.labels.tolist()) - {0, 1}:
            raise Problem(f"unexpected data: item_ids {first.item_ids.shape}")
        if first.item_ids.tobytes() != again.item_ids.tobytes():
            raise Problem("the same seed gave different data")
        buy = 100 * float(first.labels.mean())
        return f"300 sessions in {seconds:.2f} s, {buy:.1f} % buy, same seed = same data"

    return run_probe("simulated data", fix_install(), body)


def cdnow_file() -> Path:
    """Where the installed ``lifetimes`` keeps CDNOW_master.txt (``lifetimes`` not imported)."""
    return Path(importlib.metadata.distribution("lifetimes").locate_file(CDNOW_FILE))


def check_cdnow(path: Path | None = None, pins: dict[str, str] | None = None) -> CheckResult:
    """The CDNOW purchase log is on disk (it ships inside the ``lifetimes`` wheel)."""
    pins = read_pins() if pins is None else pins
    version = pins.get("lifetimes")
    install = f"{_python_cmd()} -m pip install lifetimes" + (f"=={version}" if version else "")
    install = fix_install() if _venv_cmd() else install

    def body():
        try:
            file = Path(path) if path is not None else cdnow_file()
        except importlib.metadata.PackageNotFoundError:
            raise Problem("the 'lifetimes' package (it ships the file) is not installed") from None
        if not file.is_file():
            raise Problem(f"{file} is missing")
        with file.open("rb") as handle:
            purchases = sum(1 for _ in handle) - 1  # minus the header line
        return f"CDNOW_master.txt, {purchases:,} purchases"

    return run_probe("CDNOW data", install, body)


def check_notebooks(repo_root: Path = REPO_ROOT) -> CheckResult:
    def body():
        notebooks = sorted((Path(repo_root) / "notebooks").glob("*.ipynb"))
        if not notebooks:
            raise Problem(f"no notebook in {Path(repo_root) / 'notebooks'}")
        return f"{len(notebooks)} question notebooks in notebooks/"

    return run_probe("notebooks/", FIX_NOTEBOOKS, body)


def check_workspace(repo_root: Path = REPO_ROOT) -> CheckResult:
    """Where the learner's my-work/ stands (information: only a damaged manifest fails)."""

    def body():
        from helpers.workspace import WorkspaceError, sync_workspace

        dest = Path(repo_root) / "my-work"
        if not dest.is_dir():
            return "my-work/ not created yet (optional): make workspace"
        try:
            report = sync_workspace(Path(repo_root) / "notebooks", dest, dry_run=True)
        except WorkspaceError as error:
            raise Problem(
                str(error), f"see the message; then: {_python_cmd()} -m helpers.workspace"
            ) from None
        waiting = len(report.copied) + len(report.restored) + len(report.updated)
        detail = f"my-work/: {len(report.kept)} notebook(s) you edited"
        return detail + (f", {waiting} update(s) waiting: make workspace" if waiting else "")

    return run_probe("workspace", "make workspace", body)


# --- TensorFlow, Keras and one training step: in a child process ----------------------


def _probe_tensorflow() -> dict:
    """Runs in the child process: import TensorFlow and Keras, train a tiny LSTM one step."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # as helpers.setup does
    out: dict = {"backend_env": os.environ["KERAS_BACKEND"]}
    start = time.perf_counter()
    try:
        import tensorflow as tf

        out["tensorflow"] = tf.__version__
        out["import_seconds"] = time.perf_counter() - start
    except Exception as error:
        out["error"] = f"{type(error).__name__}: {error}"
        return out
    try:
        import keras

        out["keras"], out["backend"] = keras.__version__, keras.backend.backend()
    except Exception as error:
        out["keras_error"] = f"{type(error).__name__}: {error}"
        return out
    try:
        import numpy as np

        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(1, activation="sigmoid")]
        )
        model.compile(optimizer="adam", loss="binary_crossentropy")
        x = np.random.default_rng(0).random((8, 5, 3), dtype=np.float32)
        y = (x.sum(axis=(1, 2)) > 7.5).astype("float32")
        start = time.perf_counter()
        out["loss"] = float(np.asarray(model.train_on_batch(x, y)).ravel()[0])
        out["train_seconds"] = time.perf_counter() - start
    except Exception as error:
        out["train_error"] = f"{type(error).__name__}: {error}"
    return out


class TensorFlowProbe:
    """Runs :func:`_probe_tensorflow` in a child Python; ``result()`` waits for its dict.

    A crash of the child (e.g. SIGILL from a wheel built for another CPU) becomes
    ``{"crash": "..."}`` instead of killing the doctor.
    """

    def __init__(self, command: list[str] | None = None):
        self.command = command or [sys.executable, "-m", "helpers.doctor", "--tensorflow-probe"]
        self._process: subprocess.Popen | None = None
        self._result: dict | None = None

    def start(self) -> TensorFlowProbe:
        if self._process is None and self._result is None:
            try:
                self._process = subprocess.Popen(
                    self.command,
                    cwd=REPO_ROOT,  # finds helpers/ even if it is not installed
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            except OSError as error:
                self._result = {
                    "crash": f"could not start Python for the TensorFlow check: {error}"
                }
        return self

    def result(self) -> dict:
        if self._result is None:
            self._result = self._wait()
        return self._result

    def _wait(self) -> dict:
        process = self.start()._process
        if process is None:  # start() failed and left its result
            return self._result
        try:
            stdout, stderr = process.communicate(timeout=PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return {"crash": f"importing TensorFlow took over {PROBE_TIMEOUT} s"}
        name = _crash_name(process.returncode)
        if name:
            return {"crash": f"Python crashed importing TensorFlow ({name})", "signal": name}
        lines = stdout.strip().splitlines()
        try:
            return json.loads(lines[-1])
        except (IndexError, ValueError):
            last = (stderr.strip().splitlines() or ["no output"])[-1]
            return {"crash": f"the TensorFlow check failed: {last[:200]}"}


WINDOWS_ILLEGAL_INSTRUCTION = 0xC000001D  # STATUS_ILLEGAL_INSTRUCTION: Windows' SIGILL


def _crash_name(returncode: int) -> str | None:
    """``"SIGILL"``-style name when the child was killed by a signal, else None."""
    if returncode == WINDOWS_ILLEGAL_INSTRUCTION:
        return "SIGILL"
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _probe_problem(probe: dict, *, keras: bool = True) -> None:
    """Raise the Problem a failed probe shows (``keras``: Keras must have imported too).

    When TensorFlow itself failed, only its own line carries the fix; the Keras and
    training lines point at it (one fix to read, not three copies).
    """
    if "crash" in probe or "error" in probe:
        if keras:
            raise Problem("not checked: TensorFlow did not import", FIX_TENSORFLOW_FIRST)
        if "crash" in probe:
            raise Problem(probe["crash"], FIX_CPU if probe.get("signal") == "SIGILL" else None)
        raise Problem(f"not importable ({probe['error'][:200]})")
    if keras and "keras_error" in probe:
        backend = probe.get("backend_env", "tensorflow")
        if backend != "tensorflow":
            raise Problem(f"KERAS_BACKEND={backend}: {probe['keras_error'][:200]}", FIX_BACKEND)
        raise Problem(f"Keras not importable ({probe['keras_error'][:200]})")


def check_tensorflow(probe: dict, pins: dict[str, str] | None = None) -> CheckResult:
    pins = read_pins() if pins is None else pins

    def body():
        _probe_problem(probe, keras=False)
        found = probe["tensorflow"]
        if version_tuple(found) < MIN_TENSORFLOW:
            raise Problem(f"{found}: the notebooks need TensorFlow >= 2.16 (Keras 3)")
        pinned = pins.get("tensorflow-cpu") or pins.get("tensorflow")
        return f"{_compare(found, pinned)}, import {probe['import_seconds']:.1f} s"

    return run_probe("TensorFlow", fix_install(), body)


def check_keras(probe: dict, pins: dict[str, str] | None = None) -> CheckResult:
    pins = read_pins() if pins is None else pins

    def body():
        _probe_problem(probe)
        found = probe["keras"]
        if version_tuple(found)[0] != KERAS_MAJOR:
            raise Problem(f"{found}: the notebooks need Keras 3")
        detail = _compare(found, pins.get("keras"))
        if probe["backend"] != "tensorflow":
            raise Problem(f"{detail}, but the backend is {probe['backend']}", FIX_BACKEND)
        return f"{detail}, backend tensorflow"

    return run_probe("Keras", fix_install(), body)


def check_training(probe: dict) -> CheckResult:
    def body():
        _probe_problem(probe)
        if "train_error" in probe:
            raise Problem(f"one training step failed ({probe['train_error'][:200]})")
        if not probe["loss"] == probe["loss"] or probe["loss"] <= 0:  # NaN or impossible
            raise Problem(f"one training step gave loss {probe['loss']}")
        return f"LSTM trained one step on the CPU in {probe['train_seconds']:.1f} s"

    return run_probe("training step", fix_install(), body)


# --- all of it ---------------------------------------------------------------------------


def run_checks(probe: TensorFlowProbe | None = None) -> list[CheckResult]:
    """Every check, in the order printed. The TensorFlow child starts first."""
    probe = (probe or TensorFlowProbe()).start()
    pins = read_pins()
    results = [check_python()]
    others = [check_library(dist, pins) for dist in LIBRARIES]
    others += [check_helpers_install(), check_simulator(), check_cdnow(pins=pins)]
    others += [check_notebooks(), check_workspace()]
    found = probe.result()
    results += [check_tensorflow(found, pins), check_keras(found, pins), check_training(found)]
    return results + others


def format_results(results: list[CheckResult], seconds: float) -> str:
    width = max(len(r.name) for r in results) + 2
    # first, so that nobody installs into a global Python by following the fix lines
    hint = other_python_hint(REPO_ROOT, "-m helpers.doctor")
    lines = [f"Set-up check for {REPO_ROOT}", *([hint] if hint else []), ""]
    for result in results:
        status = "ok" if result.ok else "NOT OK"
        lines.append(f"  {status:<7}{result.name:<{width}}{result.detail}")
        if not result.ok:
            first, *more = result.fix.splitlines()
            lines.append(f"  {'':<7}fix: {first}")
            lines.extend(f"  {'':<7}     {line}" for line in more)
    failed = sum(not r.ok for r in results)
    lines.append("")
    if failed and hint:
        lines.append(
            f"{failed} of {len(results)} checks NOT OK ({seconds:.1f} s) with this Python. "
            f"Run the check with the project's .venv: {_venv_cmd()} -m helpers.doctor"
        )
    elif failed:
        lines.append(
            f"{failed} of {len(results)} checks NOT OK ({seconds:.1f} s). "
            "Run each fix line above, then `make check-setup` again."
        )
    else:
        lines.append(f"All {len(results)} checks ok ({seconds:.1f} s). Ready: make lab")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.doctor",
        description="Check this laptop's set-up for the notebooks; print a fix for each problem.",
    )
    parser.add_argument("--tensorflow-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tensorflow_probe:  # the child process of TensorFlowProbe
        print(json.dumps(_probe_tensorflow()))
        return 0
    start = time.perf_counter()
    results = run_checks()
    print(format_results(results, time.perf_counter() - start))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
