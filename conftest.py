"""pytest hooks for the whole repository (unit tests and nbval runs).

While nbval runs a question notebook, every exercise check cell must say "not
attempted yet" (see tests/untouched.py): the same notebook run proves both that it
executes and that untouched stubs are reported, not crashed on.
"""

import pytest

from tests.untouched import untouched_check_problem


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield  # the cell ran without error (else nbval's failure propagates)
    problem = untouched_check_problem(item)
    if problem:
        pytest.fail(problem, pytrace=False)
    return result
