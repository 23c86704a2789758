"""`setup_notebook()`: the one setup cell every notebook runs."""

import contextlib
import os
import platform
import random
import sys
from pathlib import Path

# Standard library only at import time: helpers.doctor reads these to check a laptop
# that may not have NumPy yet.
MIN_TENSORFLOW = (2, 16)  # first release whose `tf.keras` is Keras 3
KERAS_MAJOR = 3


def version_tuple(version: str) -> tuple[int, int]:
    """``"2.21.0"`` → ``(2, 21)``; ``"3"`` → ``(3, 0)``; ``"2.16rc1"`` → ``(2, 16)``."""
    major, minor = (version.split(".") + ["0"])[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def project_venv_python(repo_root: Path | str, prefix: str | None = None) -> Path | None:
    """The project's ``.venv`` Python when ``repo_root/.venv`` exists and this interpreter
    (its ``sys.prefix``, or ``prefix``) is another one; ``None`` otherwise.

    For the hint "you started another Python than the project's environment": the tools
    then name ``.venv`` instead of suggesting installs into a global interpreter.
    """
    venv = Path(repo_root) / ".venv"
    if not (venv / "pyvenv.cfg").is_file():
        return None
    here = Path(sys.prefix if prefix is None else prefix)
    try:
        if here.resolve() == venv.resolve():
            return None
    except OSError:
        pass
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def other_python_hint(repo_root: Path | str, command: str, prefix: str | None = None) -> str:
    """One line naming ``.venv`` when this is not the project's Python, else ``""``.

    ``command`` is what to run with the right Python, e.g. ``"-m helpers.doctor"``.
    """
    python = project_venv_python(repo_root, prefix)
    if python is None:
        return ""
    try:
        shown = python.relative_to(Path.cwd())
    except ValueError:
        shown = python
    return (
        f"note: this is {sys.executable}, not the project's environment .venv/ "
        f"(it exists in {Path(repo_root)}). Run: {shown} {command}"
    )


@contextlib.contextmanager
def _silenced_stderr():
    """Point file descriptor 2 at /dev/null for the block, then restore it.

    On first import, TensorFlow's C++ runtime prints "All log messages before
    absl::InitializeLog()..." and a oneDNN notice straight to the process's
    stderr, before its own log-level setting applies. Only the import is
    silenced; errors raised in it still propagate. No effect when TensorFlow
    was imported already (the lines were printed then).
    """
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr (some embedded interpreters): nothing to silence
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def setup_notebook(seed: int = 42, *, quiet: bool = False) -> dict:
    """Seed everything, quiet TensorFlow, set the plot style, check versions.

    Call it once at the top of a notebook. Same seed → same numbers on the same
    machine: Python, NumPy and Keras are seeded and TensorFlow's op determinism
    is switched on (multi-threaded CPU reductions would otherwise add in a
    different order from run to run). TensorFlow's graph optimiser (Grappler)
    is switched off: it costs seconds per model and speeds up none this small.

    Returns the versions found, e.g. ``{"tensorflow": "2.21.0", "keras": "3.15.1", ...}``.
    Raises ``RuntimeError`` naming the fix when TensorFlow/Keras are too old.
    """
    # must be set before TensorFlow is first imported to silence its C++ logs
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with _silenced_stderr():  # TensorFlow's C++ start-up lines ignore TF_CPP_MIN_LOG_LEVEL
        import keras
        import tensorflow as tf
    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np

    problems = []
    if version_tuple(tf.__version__) < MIN_TENSORFLOW:
        problems.append(f"TensorFlow {tf.__version__} (need >= 2.16)")
    if version_tuple(keras.__version__)[0] != KERAS_MAJOR:
        problems.append(f"Keras {keras.__version__} (need 3.x)")
    if problems:
        raise RuntimeError(
            "This collection needs Keras 3 on TensorFlow >= 2.16; found "
            + " and ".join(problems)
            + ". Fix: from the repository root run `make lab` (it creates .venv), "
            "or `pip install -r requirements.txt` in a fresh virtual environment."
        )

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # seeds Python, NumPy and the backend again
    tf.config.experimental.enable_op_determinism()
    # TensorFlow's graph optimiser (Grappler) rewrites every compiled function before its
    # first run: about 3 s of CPU per model here, and models this small train no faster
    # for it (measured on notebooks 04, 06, 12, 13: same trained weights without it).
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    tf.get_logger().setLevel("ERROR")
    if quiet:
        keras.utils.disable_interactive_logging()  # no progress bars

    plt.style.use("seaborn-v0_8-whitegrid")
    matplotlib.rcParams.update({"figure.figsize": (7, 3.5), "figure.dpi": 90})

    versions = {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "seed": seed,
    }
    if not quiet:
        print(", ".join(f"{name} {value}" for name, value in versions.items()))
    return versions
