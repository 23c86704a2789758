"""The documents around the notebooks: README, GLOSSARY, INSTRUCTORS.

Links must resolve (a renamed notebook breaks them silently otherwise), every
notebook appears in the README's map with a measured run time, and every
notebook's first cell points to the glossary.
"""

import re

import pytest

from tests.test_notebooks import ROOT, SOLUTIONS, read

DOCUMENTS = ["README.md", "GLOSSARY.md", "INSTRUCTORS.md"]
# [text](target) with a relative target (no scheme, no pure #anchor)
RELATIVE_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s#]+)(?:#[^)]*)?\)")


def relative_links(text):
    return RELATIVE_LINK.findall(text)


def test_relative_link_pattern_finds_targets():
    text = "[a](notebooks/x.ipynb) [b](https://e.org) [c](#top) [d](GLOSSARY.md#mask)"
    assert relative_links(text) == ["notebooks/x.ipynb", "GLOSSARY.md"]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_links_resolve(name):
    path = ROOT / name
    assert path.exists(), f"{name} is missing"
    broken = [t for t in relative_links(path.read_text()) if not (ROOT / t).exists()]
    assert not broken, f"{name} links to files that do not exist: {broken}"


def test_readme_links_the_glossary_and_the_instructor_guide():
    readme = (ROOT / "README.md").read_text()
    for target in ("GLOSSARY.md", "INSTRUCTORS.md"):
        assert f"]({target})" in readme, f"README does not link {target}"
    for heading in ("For learners", "For instructors", "Reading online"):
        assert re.search(rf"^#+ {heading}", readme, re.M), f"README has no '{heading}' section"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_readme_map_lists_the_notebook_with_a_run_time(path):
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("|")]
    row = next((r for r in rows if f"(solutions/{path.name})" in r), None)
    assert row is not None, f"the README's notebook map has no row for {path.name}"
    assert f"(notebooks/{path.name})" in row, "the row must link the question notebook too"
    assert re.search(r"\|\s*\d+ s\s*\|\s*$", row), f"no measured run time in: {row}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_first_cell_links_the_glossary(path):
    first = read(path).cells[0].source
    assert "](../GLOSSARY.md)" in first, "the first cell must link ../GLOSSARY.md"
    for target in relative_links(first):
        assert (path.parent / target).resolve().exists(), f"broken link {target}"
