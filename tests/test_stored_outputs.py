"""The stale-output check that runs inside nbval's run of every solution notebook."""

import nbformat

from tests.stored_outputs import skeleton, stale_output_problem, stale_problem
from tests.test_notebooks import ROOT


def stdout(text):
    return [{"output_type": "stream", "name": "stdout", "text": text}]


def test_numbers_that_moved_and_rewrapped_lines_are_not_stale():
    stored = stdout("seed 1: +0.0430 (+0.0076 to +0.0762)\nloss [4.06 3.38 3.3  3.27]\n")
    fresh = stdout("seed 1: -0.0012 (−0.0301 to +0.0290)\nloss [4.1 3.4\n 3.31 3.2]\n")
    assert stale_problem(stored, fresh) is None


def test_the_answer_sheet_that_went_stale_is_caught():
    # 09's sheet: stored before the question bank grew, re-executed after
    problem = stale_problem(stdout("✓ 26/26 — full marks\n"), stdout("✗ 26/42\n"))
    assert problem and "stale" in problem and "full marks" in problem


def test_a_line_more_a_word_changed_or_a_new_result_is_caught():
    stored = stdout("attention ahead on every seed\n")
    assert stale_problem(stored, stdout("attention behind on seed 3\n"))
    assert stale_problem(stored, stdout("attention ahead on every seed\nwarning: 1 NaN\n"))
    result = [{"output_type": "execute_result", "data": {"text/plain": "0.75"}}]
    assert stale_problem(stored, stored + result)


def test_stderr_and_figures_are_not_compared():
    figure = {"output_type": "display_data", "data": {"text/plain": "<Figure size 640x480>"}}
    noise = {"output_type": "stream", "name": "stderr", "text": "oneDNN custom operations\n"}
    assert stale_problem(stdout("ok\n"), [noise, *stdout("ok\n"), figure]) is None


def test_numbers_of_every_printed_form_become_one_mark():
    assert skeleton("1,894 tests, 2.2e-16, −3, .5 and 12%") == "# tests, #, #, # and #%"
    assert skeleton("<History at 0x7f3ad1c2e0>") == skeleton("<History at 0x7fd30e8f10>")


class _Item:  # what the hook receives from nbval: the stored cell and what it printed now
    def __init__(self, path, cell, outputs):
        self.path, self.cell, self.test_outputs = path, cell, outputs


def test_only_solution_cells_that_ran_are_checked():
    stored = [nbformat.v4.new_output("stream", text="✓ 1/1\n")]
    cell = nbformat.v4.new_code_cell("print(1)", outputs=stored)
    fresh = stdout("✗ 1/2\n")
    assert stale_output_problem(_Item(ROOT / "solutions" / "x.ipynb", cell, fresh))
    assert stale_output_problem(_Item(ROOT / "notebooks" / "x.ipynb", cell, fresh)) is None
    assert stale_output_problem(_Item(ROOT / "solutions" / "x.ipynb", cell, None)) is None
