"""Structure of the notebooks (nbval runs them; these tests check what they say).

Every solution notebook follows the template of DESIGN.md: the article's
question verbatim in Chinese, a hidden "think first", one setup cell, proofs,
follow-up questions, a questionnaire and further reading. Solutions are stored
executed in order, without unexpected errors, every exercise check passed, and
every measured number quoted in markdown is printed by a cell.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))

# The source article's question for each notebook, verbatim (shared/seed/source-article.md).
ARTICLE_QUESTIONS = {
    "00": "用户行为序列分析对于提升用户体验、精准营销、推荐系统和用户流失预测具有重要意义",
    "01": "用户行为序列建模的主要挑战是什么？",
    "02": "请简述时间序列分析中的长短时记忆网络（LSTM）如何处理用户行为序列。",
    "03": "请解释如何使用注意力机制（Attention Mechanism）增强用户行为序列分析的效果。",
    "04": "编写一个Python程序，使用LSTM对用户行为序列进行分类。",
    "05": "编写一个Python程序，使用注意力机制对用户行为序列进行建模。",
    "06": "以下是一个使用LSTM和注意力机制的完整源代码实例",
    "07": "大模型在电商平台用户行为序列分析中的应用",
    "08": "推荐系统和用户流失预测具有重要意义",  # the article on churn (用户流失预测)
    "09": "通过这些面试题和算法编程题",
}
# a check call (not a definition), direct or through helpers.feedback.use_if_correct
CHECK_CALL = re.compile(r"^(?!\s*def\s).*\b(check_\w+\(|use_if_correct\()", re.M)
# a measured-looking number: at least two decimals (0.818, 0.05); versions and
# cited round figures do not match
MEASURED = re.compile(r"(?<![\w.])\d+\.\d{2,}(?![\w.])")


def read(path):
    return nbformat.read(path, as_version=4)


def markdown(nb):
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def output_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(str(out.get("data", {}).get("text/plain", "")))
            parts.append(str(out.get("data", {}).get("text/markdown", "")))
            parts.append(str(out.get("data", {}).get("text/html", "")))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "\n".join(parts)


def test_there_are_solution_notebooks():
    names = [p.stem[:2] for p in SOLUTIONS]
    # the seven source notebooks once they exist; never fewer than what is checked in
    assert len(names) == len(set(names)), f"two notebooks share a number: {names}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_template(path):
    nb = read(path)
    text = "\n".join(markdown(nb))
    number = path.stem[:2]
    if number in ARTICLE_QUESTIONS:
        assert ARTICLE_QUESTIONS[number] in nb.cells[0].source, (
            "the first cell must quote the article's question verbatim"
        )
    assert nb.cells[0].source.lstrip().startswith("# "), "the first cell starts with a title"
    assert "<details>" in text, "a hidden 'think first' / answer key is missing"
    for heading in ("Follow-up", "Questionnaire", "Further reading"):
        assert re.search(rf"^#+ .*{heading}", text, re.M | re.I), f"no '{heading}' section"
    setup = [i for i, c in enumerate(code_cells(nb)) if "setup_notebook(" in c.source]
    assert setup == [0], "exactly one setup cell, the first code cell: setup_notebook()"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_stored_executed_in_order_without_unexpected_errors(path):
    cells = [c for c in code_cells(read(path)) if c.source.strip()]
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name} is not stored executed top to bottom in one run: {counts}"
    )
    for cell in cells:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        expected = "raises-exception" in cell.metadata.get("tags", [])
        assert bool(errors) == expected, f"cell {cell.execution_count}: " + (
            "error without a 'raises-exception' tag" if errors else "tagged but did not raise"
        )


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_exercise_check_passes_in_the_solution(path):
    for cell in code_cells(read(path)):
        if CHECK_CALL.search(cell.source) and "raises-exception" not in cell.metadata.get(
            "tags", []
        ):
            assert "✓" in output_text(cell), f"check cell did not pass:\n{cell.source}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_measured_numbers_in_markdown_are_printed_by_a_cell(path):
    nb = read(path)
    outputs = "\n".join(output_text(c) for c in code_cells(nb))
    missing = sorted(
        {n for source in markdown(nb) for n in MEASURED.findall(source) if n not in outputs}
    )
    assert not missing, f"numbers in markdown that no cell prints: {missing}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_question_notebook_has_a_stub_for_each_exercise(path):
    solution = read(path)
    question = read(ROOT / "notebooks" / path.name)
    exercises = sum("### BEGIN SOLUTION" in c.source for c in code_cells(solution))
    stubs = sum("raise NotImplementedError" in c.source for c in code_cells(question))
    assert stubs >= exercises
    assert "### BEGIN SOLUTION" not in "".join(c.source for c in question.cells)


# an absolute path of the machine that ran a notebook (a home, the repository, a venv, a
# temporary folder, a Windows drive); URLs ("https://host/home/...") do not match
ABSOLUTE_PATH = re.compile(
    r"(?<![\w:/.~-])/(?:root|home|Users|work|tmp|usr|opt|var|private|mnt|srv)/"
    r"|\b[A-Za-z]:\\\\?[\w.]|site-packages|dist-packages"
)


def stored_text(cell):
    """Every stored output of a code cell as text (tracebacks included, images left out)."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(out.get("traceback", []))
        parts.append(out.get("evalue", ""))
        for kind, value in out.get("data", {}).items():
            if not kind.startswith("image/"):
                parts.append(value if isinstance(value, str) else str(value))
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts))  # without terminal colours


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_no_stored_output_holds_an_absolute_path(path):
    # stored outputs go into the HTML edition: they must not show the machine that ran them
    found = []
    for index, cell in enumerate(read(path).cells):
        if cell.cell_type == "code":
            found += [
                f"cell {index}: ...{m.string[max(0, m.start() - 40) : m.end() + 40]!r}..."
                for m in ABSOLUTE_PATH.finditer(stored_text(cell))
            ]
    assert not found, "absolute paths in stored outputs:\n" + "\n".join(found[:5])
