"""pytest hooks for the whole repository (unit tests and nbval runs).

While nbval runs a question notebook, every exercise check cell must say "not
attempted yet" (see tests/untouched.py): the same notebook run proves both that it
executes and that untouched stubs are reported, not crashed on. While it runs a
solution notebook, every cell must print what its stored output shows, numbers aside
(see tests/stored_outputs.py): a stored output cannot go stale unnoticed.
"""

import pytest

from tests.stored_outputs import stale_output_problem
from tests.untouched import untouched_check_problem


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield  # the cell ran without error (else nbval's failure propagates)
    problem = untouched_check_problem(item) or stale_output_problem(item)
    if problem:
        pytest.fail(problem, pytrace=False)
    return result
