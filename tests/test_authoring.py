"""Tests for helpers.authoring: solutions/ -> notebooks/ generation and the --check gate."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import authoring
from helpers.authoring import build, main, question_notebook, stale

REPO_ROOT = Path(authoring.__file__).resolve().parent.parent

FUNCTION_CELL = """\
import numpy as np

def attention_pool(x):
    \"\"\"Docstring kept.\"\"\"
    ### BEGIN SOLUTION
    scores = x.sum(axis=-1)
    weights = np.exp(scores)
    ### END SOLUTION
    return weights

### BEGIN SOLUTION
answer = attention_pool(np.ones((2, 3)))
### END SOLUTION
print("done")"""

FUNCTION_STUB = """\
import numpy as np

def attention_pool(x):
    \"\"\"Docstring kept.\"\"\"
    # YOUR CODE HERE
    raise NotImplementedError
    return weights

# YOUR CODE HERE
raise NotImplementedError
print("done")"""

KEY_POINTS = "Key points: the LSTM keeps ORDER_SECRET; bag-of-events models lose it."


def solution_notebook():
    """A small executed solution notebook covering every kind of cell the tool handles."""
    executed = new_code_cell("print('hi')", execution_count=3)
    executed.outputs = [new_output("stream", name="stdout", text="hi\n")]
    executed.metadata["execution"] = {"iopub.status.idle": "2024-01-01T00:00:00"}
    executed.metadata["tags"] = ["nbval-skip"]
    answer = new_markdown_cell(f"### Your answer\n\n{KEY_POINTS}")
    answer.metadata["tags"] = ["answer"]
    plain_answer = new_markdown_cell(KEY_POINTS)
    plain_answer.metadata["tags"] = ["answer"]
    spoiler = new_code_cell("print('SPOILER_DEMO')", execution_count=5)
    spoiler.metadata["tags"] = ["solution-only"]
    exercise = new_code_cell(FUNCTION_CELL, execution_count=4)
    exercise.outputs = [new_output("stream", name="stdout", text="done\n")]
    nb = new_notebook(
        cells=[
            new_markdown_cell("# 01 Why order matters"),
            executed,
            answer,
            plain_answer,
            spoiler,
            exercise,
        ],
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.12.3", "mimetype": "text/x-python"},
            "widgets": {"state": "volatile"},
        },
    )
    for i, cell in enumerate(nb.cells):  # fixed ids, like a saved 4.5 notebook
        cell.id = f"id-{i}"
    return nb


def make_repo(tmp_path, notebooks=None):
    """root/solutions holding the given notebooks (default: one) and an empty root/notebooks."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "notebooks").mkdir()
    if notebooks is None:
        notebooks = {"01_order.ipynb": solution_notebook()}
    for name, nb in notebooks.items():
        nbformat.write(nb, tmp_path / "solutions" / name)
    return tmp_path


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_solution_regions_become_indented_stubs():
    out = question_notebook(solution_notebook())
    assert code_cells(out)[-1].source == FUNCTION_STUB


def test_answer_cells_become_prompts_without_the_key_points():
    out = question_notebook(solution_notebook())
    sources = [c.source for c in out.cells]
    assert "### Your answer\n\n*Write your answer here.*" in sources
    assert "*Write your answer here.*" in sources  # no heading -> prompt only
    assert all("ORDER_SECRET" not in s for s in sources)


def test_solution_only_cells_are_dropped():
    out = question_notebook(solution_notebook())
    assert all("SPOILER_DEMO" not in c.source for c in out.cells)
    assert [c.id for c in out.cells] == ["id-0", "id-1", "id-2", "id-3", "id-5"]


def test_outputs_counts_and_metadata_are_cleared():
    source = solution_notebook()
    out = question_notebook(source)
    for cell in code_cells(out):
        assert cell.outputs == [] and cell.execution_count is None
    assert code_cells(out)[0].metadata == {"tags": ["nbval-skip"]}  # volatile timing gone
    assert out.metadata == {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    assert code_cells(source)[0].outputs, "the solution notebook itself must not be modified"
    nbformat.validate(out)


def test_untouched_stub_raises_not_implemented():
    """Learners who have not attempted an exercise hit NotImplementedError, not a NameError."""
    out = question_notebook(solution_notebook())
    with pytest.raises(NotImplementedError):
        exec(code_cells(out)[-1].source, {})
    nb = new_notebook(
        cells=[
            new_code_cell(
                "def build_fn(units):\n    ### BEGIN SOLUTION\n    return units\n"
                "    ### END SOLUTION\n"
            )
        ]
    )
    namespace = {}
    exec(question_notebook(nb).cells[0].source, namespace)  # defining the stub is fine...
    with pytest.raises(NotImplementedError):
        namespace["build_fn"](8)  # ...calling it (as the checkers do) is not


@pytest.mark.parametrize(
    "source",
    [
        "### BEGIN SOLUTION\nx = 1",
        "x = 1\n### END SOLUTION",
        "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
    ],
)
def test_unmatched_markers_raise_value_error(source):
    nb = solution_notebook()
    nb.cells.append(new_code_cell(source))
    with pytest.raises(ValueError, match=r"bad\.ipynb, cell 6"):
        question_notebook(nb, name="bad.ipynb")


def test_build_is_deterministic_and_check_passes(tmp_path, capsys):
    root = make_repo(tmp_path)
    target = root / "notebooks" / "01_order.ipynb"
    assert build(root) == [target]
    first = target.read_bytes()
    assert first.endswith(b"\n")
    target.unlink()
    build(root)
    assert target.read_bytes() == first
    assert build(root) == []  # nothing to rewrite
    capsys.readouterr()
    assert main(["--check", "--root", str(root)]) == 0
    assert "notebooks/ is up to date (1 notebooks)" in capsys.readouterr().out


def test_check_reports_edited_solution(tmp_path, capsys):
    root = make_repo(tmp_path)
    build(root)
    nb = solution_notebook()
    nb.cells.append(new_markdown_cell("A new claim."))
    nbformat.write(nb, root / "solutions" / "01_order.ipynb")
    before = (root / "notebooks" / "01_order.ipynb").read_bytes()
    assert main(["--check", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "notebooks/01_order.ipynb" in out and "python -m helpers.authoring" in out
    assert (root / "notebooks" / "01_order.ipynb").read_bytes() == before  # --check writes nothing


def test_check_reports_missing_notebook(tmp_path):
    root = make_repo(tmp_path)
    assert stale(root) == ["notebooks/01_order.ipynb is missing"]
    assert not (root / "notebooks" / "01_order.ipynb").exists()


def test_orphan_is_reported_then_deleted(tmp_path, capsys):
    root = make_repo(tmp_path)
    build(root)
    orphan = root / "notebooks" / "02_removed.ipynb"
    nbformat.write(new_notebook(), orphan)
    (root / "notebooks" / "README.md").write_text("kept\n")
    assert main(["--check", "--root", str(root)]) == 1
    assert "02_removed.ipynb" in capsys.readouterr().out
    assert orphan.exists()
    assert main(["--root", str(root)]) == 0
    assert not orphan.exists()
    assert (root / "notebooks" / "README.md").read_text() == "kept\n"
    assert stale(root) == []


def test_zero_solutions_is_up_to_date(tmp_path, capsys):
    root = make_repo(tmp_path, notebooks={})
    assert main(["--check", "--root", str(root)]) == 0
    assert "up to date (0 notebooks)" in capsys.readouterr().out


def test_real_repository_notebooks_are_up_to_date():
    """CI gate: notebooks/ must be regenerated (`make notebooks`) whenever solutions/ changes."""
    assert main(["--check", "--root", str(REPO_ROOT)]) == 0, stale(REPO_ROOT)


def test_import_does_not_load_tensorflow():
    code = (
        "import sys, helpers.authoring; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert result.stdout.split() == ["False", "False"]
