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


# --- one story on where to work ---------------------------------------------------------

WHERE_TO_WORK = ["README.md", "INSTRUCTORS.md", "notebooks/README.md", "solutions/README.md"]
# "work in notebooks/", "edit in `notebooks/`", "work from notebooks/": what no document says
WORK_IN_NOTEBOOKS = re.compile(
    r"\b(?:work|edit)\s+(?:in|inside|from)\s+`?(?:\.\./)?notebooks/", re.I
)


def test_work_in_notebooks_pattern():
    assert WORK_IN_NOTEBOOKS.search("Work in `notebooks/` (questions)")
    assert WORK_IN_NOTEBOOKS.search("edit in ../notebooks/ then")
    assert not WORK_IN_NOTEBOOKS.search("Work in `my-work/`; `notebooks/` is generated")


def start_here_text():
    """Notebook 00's markdown before its first code cell (where it says where to work)."""
    cells = read(ROOT / "solutions" / "00_start_here.ipynb").cells
    first_code = next(i for i, c in enumerate(cells) if c.cell_type == "code")
    return "\n".join(c.source for c in cells[:first_code] if c.cell_type == "markdown")


@pytest.mark.parametrize("name", [*WHERE_TO_WORK, "solutions/00_start_here.ipynb"])
def test_every_document_sends_the_learner_to_my_work(name):
    text = start_here_text() if name.endswith(".ipynb") else (ROOT / name).read_text()
    assert "my-work/" in text, f"{name} does not say that learners work in my-work/"
    said = WORK_IN_NOTEBOOKS.search(text)
    assert not said, f"{name} tells the learner to work in notebooks/: {said[0]!r}"
    if name != "solutions/README.md":  # solutions/README.md says it the other way round
        assert re.search(r"notebooks/`?\*{0,2} (?:is|are) generated|Generated from", text), (
            f"{name} does not say that notebooks/ is generated"
        )


def test_make_lab_opens_the_workspace_not_the_generated_notebooks():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lab:.*?\n((?:\t.*\n)+)", makefile, re.M)[1]
    assert "my-work/" in recipe and "notebooks/" not in recipe, recipe


# --- the workshop agendas fit the measured run times ------------------------------------

EXERCISE_MINUTES = (15, 25)  # what an exercise takes a room, INSTRUCTORS.md's rule


def readme_run_seconds():
    """{notebook stem: run time in s} from the README's notebook map."""
    rows = re.findall(r"\(solutions/(\d\d_\w+)\.ipynb\).*\|\s*(\d+) s\s*\|\s*$",
                      (ROOT / "README.md").read_text(), re.M)
    return {stem: int(seconds) for stem, seconds in rows}


def minutes(clock):
    hours, mins = clock.split(":")
    return 60 * int(hours) + int(mins)


def agenda_tables():
    """[(heading, stated length in min, [(start, end, row text)] per table)] of INSTRUCTORS.md."""
    text = (ROOT / "INSTRUCTORS.md").read_text()
    agendas = []
    for heading, body in re.findall(r"^### (Agenda [^\n]+)\n(.*?)(?=^##)", text, re.M | re.S):
        length = re.search(r"(\d+)[- ]hours?|(\d+) minutes", heading)
        stated = int(length[1]) * 60 if length[1] else int(length[2])
        tables = []
        for table in re.findall(r"((?:^\|.*\n)+)", body, re.M):
            rows = re.findall(r"^\| (\d+:\d\d)–(\d+:\d\d) \|(.*)$", table, re.M)
            tables.append([(minutes(a), minutes(b), rest) for a, b, rest in rows])
        agendas.append((heading, stated, tables))
    return agendas


def test_the_three_agendas_are_there():
    headings = [heading for heading, _, _ in agenda_tables()]
    assert len(headings) == 3, headings
    assert any("3-hour" in h and "break" in h for h in headings), headings
    assert any("90 minutes" in h for h in headings) and any("half day" in h for h in headings)
    readme = (ROOT / "README.md").read_text()
    assert not re.search(r"^\| \d+:\d\d–", readme, re.M), "agendas live in INSTRUCTORS.md only"


@pytest.mark.parametrize("agenda", agenda_tables(), ids=lambda a: a[0].split(":")[0])
def test_agenda_adds_up_and_every_exercise_fits(agenda):
    heading, stated, tables = agenda
    run_seconds = readme_run_seconds()
    assert tables and all(tables), f"{heading}: no table rows"
    for rows in tables:
        assert rows[0][0] == 0, f"{heading}: does not start at 0:00"
        for (_, end, _), (start, _, row) in zip(rows[:-1], rows[1:], strict=True):
            assert start == end, f"{heading}: a gap or an overlap before {row}"
        assert rows[-1][1] == stated, f"{heading}: ends at {rows[-1][1]} min, says {stated}"
    if "break" in heading.lower() or stated > 180:
        assert any("Break" in row for rows in tables for _, _, row in rows), heading
    for rows in tables:
        for start, end, row in rows:
            stem = re.search(r"\[(\d\d_\w+)\]", row)
            if stem and stem[1] in run_seconds:
                said = re.search(r"[(;] ?(\d+) s run|\((\d+) s\b", row)
                assert said and int(said[1] or said[2]) == run_seconds[stem[1]], (
                    f"{heading}, {stem[1]}: the row must quote the README's run time "
                    f"({run_seconds[stem[1]]} s): {row}"
                )
            exercise = re.search(r"\*\*Exercise\*\*[^|]*?(\d+) min", row)
            if exercise:
                low, high = EXERCISE_MINUTES
                assert low <= int(exercise[1]) <= high, f"{heading}: exercise time in {row}"
                run = run_seconds[stem[1]] / 60 if stem else 0
                assert end - start >= run + low, f"{heading}: slot too short for {row}"
                assert end - start >= run + int(exercise[1]), f"{heading}: {row}"
