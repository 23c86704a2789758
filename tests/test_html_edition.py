"""The HTML edition (helpers.html_edition): tiny notebooks first, then the real one in Chromium.

The browser tests build ``build/html/`` from ``solutions/`` (as ``make html`` does),
open pages from ``file://`` in Debian's headless Chromium through Playwright, and
check what a reader sees: nothing fetched from the network, every image decoded,
the template's headings, highlighted code, and links that lead to existing files.
The screenshot of the index is kept as ``build/html/index.png``.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import matplotlib.image
import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.html_edition import build_html, main, rewrite_link

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
BUILD = ROOT / "build" / "html"
HREFS = re.compile(r'href="([^"]*)"')
EXTERNAL = re.compile(r"^(https?:|mailto:)")


# --- tiny notebooks, no browser ---------------------------------------------------------

FIRST_CELL = """# 01 · First question

> **题目 1：** 什么是注意力？
>
> **答案：** 这是文章的答案。

**Question 1:** *What is attention?* The article's answer follows.

Terms in Chinese and English: [GLOSSARY.md](../GLOSSARY.md)."""

LINKS_CELL = """## Links

[next](02_second.ipynb#Setup), [its question notebook](../notebooks/02_second.ipynb),
[the README](../README.md), [the data code](../helpers/data.py),
[elsewhere](https://example.org/other.ipynb), [here](#Links).
<a href="02_second.ipynb">raw html link</a>

![a figure](figure.png)

<details><summary>Key points</summary>

- a hidden point

</details>

Gates: $c_t = f_t \\odot c_{t-1}$ and

$$h_t = o_t \\odot \\tanh(c_t)$$"""


def executed_notebook(*markdown: str, run: bool = True):
    """Markdown cells then one code cell; ``run`` gives it an execution count and an output."""
    code = new_code_cell("print(1 + 1)")
    if run:
        code.execution_count = 1
        code.outputs = [new_output("stream", name="stdout", text="2\n")]
    return new_notebook(cells=[new_markdown_cell(m) for m in markdown] + [code])


@pytest.fixture
def repo(tmp_path):
    """A repository-shaped folder: solutions/ with two notebooks, GLOSSARY.md, README.md."""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(executed_notebook(FIRST_CELL, LINKS_CELL), solutions / "01_first.ipynb")
    nbformat.write(
        executed_notebook("# 02 · Second question\n\nNo quote here.", "## Setup\n\nText."),
        solutions / "02_second.ipynb",
    )
    matplotlib.image.imsave(solutions / "figure.png", np.zeros((4, 6)))
    glossary = "# Glossary\n\n- LSTM: see [02](notebooks/02_second.ipynb)\n"
    (tmp_path / "GLOSSARY.md").write_text(glossary, "utf-8")
    (tmp_path / "README.md").write_text("# Tiny Lab\n", "utf-8")
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "data.py").write_text("")
    return tmp_path


def local_hrefs(html: str) -> list[str]:
    """Links to files (no web links, no same-page anchors), without their #fragment."""
    hrefs = [h for h in HREFS.findall(html) if not EXTERNAL.match(h) and not h.startswith("#")]
    return [h.split("#")[0] for h in hrefs]


def test_index_lists_every_question_in_order_with_working_links(repo):
    out = repo / "build" / "html"
    written = build_html(repo / "solutions", out)
    assert [p.name for p in written] == [
        "index.html", "GLOSSARY.html", "01_first.html", "02_second.html"
    ]
    index = (out / "index.html").read_text("utf-8")
    assert "<title>Tiny Lab</title>" in index
    first, second = index.index("01 · First question"), index.index("02 · Second question")
    assert first < second
    assert "什么是注意力？" in index and "这是文章的答案" not in index, "question yes, answer no"
    assert "What is attention?" in index and "answer follows" not in index
    assert "No quote here." in index, "without a labelled question: the first paragraph"
    hrefs = local_hrefs(index)
    assert {"01_first.html", "02_second.html", "GLOSSARY.html"} <= set(hrefs)
    missing = [h for h in hrefs if not (out / unquote(h)).exists()]
    assert not missing, f"index links to files that do not exist: {missing}"


QUOTED_PASSAGE = """# 03 · Third question

> **4. 源代码实例**
>
> 以下是一个完整的源代码实例。

**Section 4:** *"Here is a complete source-code example."*

As an interview task: **build the whole model?** Then compare it.

**How to use this notebook:** run it."""


def test_index_shows_a_quoted_passage_with_its_translation(repo):
    """A notebook that quotes a passage and then asks its own question shows both."""
    nbformat.write(executed_notebook(QUOTED_PASSAGE), repo / "solutions" / "03_third.ipynb")
    out = repo / "build" / "html"
    build_html(repo / "solutions", out)
    index = (out / "index.html").read_text("utf-8")
    third = index[index.index("03 · Third question"):]
    assert "以下是一个完整的源代码实例" in third
    assert "Here is a complete source-code example." in third, "the translation is shown"
    assert "build the whole model?" in third and "Then compare it" not in third
    assert "How to use" not in third
    first = index[index.index("01 · First question"):index.index("02 · Second question")]
    assert first.count("What is attention?") == 1, "a question that is the translation: once"


def test_links_are_rewritten_to_the_rendered_pages(repo):
    out = repo / "build" / "html"
    build_html(repo / "solutions", out)
    page = (out / "01_first.html").read_text("utf-8")
    hrefs = HREFS.findall(page)
    assert "02_second.html#Setup" in hrefs
    assert hrefs.count("02_second.html") >= 3, "notebooks/ link, raw <a> and next-page link"
    assert "GLOSSARY.html" in hrefs and "index.html" in hrefs and "#Links" in hrefs
    assert "https://example.org/other.ipynb" in hrefs, "web links are left alone"
    assert not [h for h in hrefs if h.endswith(".ipynb") and not EXTERNAL.match(h)]
    missing = [h for h in local_hrefs(page) if not (out / unquote(h)).resolve().exists()]
    assert not missing, f"links that lead nowhere: {missing}"
    assert "02_second.html" in local_hrefs((out / "GLOSSARY.html").read_text("utf-8"))


def test_pages_need_no_network_and_keep_the_answer_key_hidden(repo):
    out = repo / "build" / "html"
    build_html(repo / "solutions", out)
    page = (out / "01_first.html").read_text("utf-8")
    assert "<script" not in page, "no script: nbconvert's are all loaded from a CDN"
    assert not re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", page.replace(
        'href="https://example.org/other.ipynb"', ""))
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page), "markdown image embedded"
    # the list stays inside <details> (nbconvert's own image embedding would close it early)
    assert re.search(r"<details><summary>Key points</summary>\s*<ul>\s*<li>a hidden point", page)


def test_math_becomes_mathml(repo):
    out = repo / "build" / "html"
    build_html(repo / "solutions", out)
    page = (out / "01_first.html").read_text("utf-8")
    inline = re.search(r'<math [^>]*display="inline".*?</math>', page, re.S)
    block = re.search(r'<math [^>]*display="block".*?</math>', page, re.S)
    assert inline and "<msub><mi>c</mi><mi>t</mi></msub>" in inline[0]
    assert block and "tanh" in block[0]
    assert "$" not in re.sub(r"<[^>]+>", "", page.split("Gates:")[1].split("</div>")[0])


def test_rewrite_link_leaves_urls_and_anchors_alone(tmp_path):
    pages = {(tmp_path / "solutions" / "02_b.ipynb").resolve(): "02_b.html"}
    out, source = tmp_path / "out", tmp_path / "solutions"
    assert rewrite_link("02_b.ipynb#Setup", source, pages, out) == "02_b.html#Setup"
    assert rewrite_link("https://x.org/a.ipynb", source, pages, out) == "https://x.org/a.ipynb"
    assert rewrite_link("#Setup", source, pages, out) == "#Setup"
    assert rewrite_link("../helpers/x.py", source, pages, out) == "../helpers/x.py"


def test_a_notebook_without_outputs_is_named_and_nothing_is_written(repo, capsys):
    unrun = executed_notebook("# 03 · Not run", run=False)
    nbformat.write(unrun, repo / "solutions" / "03_x.ipynb")
    out = repo / "build" / "html"
    with pytest.raises(ValueError, match=r"03_x\.ipynb is not executed"):
        build_html(repo / "solutions", out)
    assert not out.exists()
    assert main(["--solutions", str(repo / "solutions"), "--out", str(out)]) == 1
    assert "03_x.ipynb is not executed" in capsys.readouterr().err


def test_missing_solutions_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no solutions folder"):
        build_html(tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no notebooks"):
        build_html(tmp_path / "empty", tmp_path / "out")


def test_main_says_where_it_wrote_and_how_to_open_it(repo, capsys):
    out = repo / "site"
    assert main(["--solutions", str(repo / "solutions"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert str(out / "index.html") in printed and "xdg-open" in printed


# --- the real edition in headless Chromium -----------------------------------------------
# One parametrized test (index, glossary, two notebook pages), so that without a browser
# the run shows one "SKIPPED [4] ..." line saying how to enable it.

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
HEADINGS = ("Think first", "Follow-up", "Questionnaire", "Further reading")


def image_outputs(path: Path) -> int:
    """How many images the stored notebook shows (plots, and images in markdown)."""
    nb = nbformat.read(path, as_version=4)
    plots = sum(
        "image/png" in out.get("data", {}) or "image/jpeg" in out.get("data", {})
        for cell in nb.cells for out in cell.get("outputs", [])
    )
    return plots + sum(len(re.findall(r"!\[|<img\b", c.source)) for c in nb.cells
                       if c.cell_type == "markdown")


def first_heading(path: Path) -> str:
    cell = nbformat.read(path, as_version=4).cells[0].source
    return re.search(r"^# +(.+)$", cell, re.M)[1].strip()


# The notebook with the most plots, and the newest one.
BROWSED = sorted({max(SOLUTIONS, key=image_outputs), SOLUTIONS[-1]}) if SOLUTIONS else []


@pytest.fixture(scope="module")
def edition():
    """``make html``: build/html/ from solutions/."""
    build_html(ROOT / "solutions", BUILD)
    return BUILD


# A system browser, never one downloaded by `playwright install`; $CHROMIUM overrides.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MACOS_CHROME = Path("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")


def find_chromium() -> str | None:
    found = [os.environ.get("CHROMIUM")] + [shutil.which(name) for name in BROWSER_NAMES]
    found.append(str(MACOS_CHROME) if MACOS_CHROME.exists() else None)
    return next((path for path in found if path), None)


NO_BROWSER = (
    "Chromium was not found, so the HTML edition was not opened in a browser. To run "
    "these tests: sudo apt-get install chromium (Debian/Ubuntu), or install Google Chrome, "
    "or set CHROMIUM=/path/to/chromium."
)


def in_ci() -> bool:
    """True under CI (``CI=true``, set by .ci/run and by the usual CI services)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None or not Path(chromium).is_file():
        # In CI (.ci/run installs Chromium) a missing browser is a failure: a skip there
        # would hide a broken edition. On a learner's laptop it is one skipped line.
        wrong = "" if chromium is None else f"CHROMIUM={chromium} is not a file. "
        if in_ci():
            pytest.fail(f"CI=true: {wrong}{NO_BROWSER} (.ci/run installs Chromium.)")
        pytest.skip(wrong + NO_BROWSER)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def open_page(browser, path: Path):
    """Load ``path`` from file://; return the page and everything that went wrong on the way."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems = []
    page.on("request", lambda r: r.url.startswith(("file:", "data:")) or problems.append(r.url))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error {e}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems


def broken_links(page) -> list[str]:
    """Links on the page to local files that do not exist, or to anchors it lacks."""
    links = page.eval_on_selector_all(
        "a[href]", "els => els.map(a => [a.getAttribute('href'), a.href])"
    )
    broken = []
    for written, resolved in links:
        url = urlparse(resolved)
        if url.scheme in ("http", "https", "mailto"):
            continue  # further reading; loading the page fetched none of them (checked)
        if written.startswith("#"):
            # nbconvert's heading ids keep their %-escapes; browsers try both spellings
            ids = [url.fragment, unquote(url.fragment)]
            found = page.evaluate("ids => ids.some(id => document.getElementById(id))", ids)
            broken += [] if found else [written]
        elif url.scheme != "file" or not Path(unquote(url.path)).exists():
            broken.append(written)
    return sorted(set(broken))


def check_index(browser, edition):
    page, problems = open_page(browser, edition / "index.html")
    assert not problems, f"the index reached beyond file:// or logged errors: {problems}"
    entries = page.eval_on_selector_all(
        "h2 > a[href]:not(.anchor-link)", "els => els.map(a => a.textContent)"
    )
    assert entries == [first_heading(p) for p in SOLUTIONS], "one entry per notebook, in order"
    assert not broken_links(page), f"index links that lead nowhere: {broken_links(page)}"
    page.screenshot(path=str(edition / "index.png"), full_page=True)
    assert (edition / "index.png").stat().st_size > 10_000
    page.close()


def check_glossary(browser, edition):
    page, problems = open_page(browser, edition / "index.html")
    assert page.locator("a[href='GLOSSARY.html']").count() >= 1, "the index links the glossary"
    page.close()
    page, problems = open_page(browser, edition / "GLOSSARY.html")
    assert not problems, f"the glossary reached beyond file:// or logged errors: {problems}"
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.getAttribute('href'))")
    assert any(re.match(r"\d+_\w+\.html", h) for h in hrefs), "no link to a notebook page"
    assert not broken_links(page), f"glossary links that lead nowhere: {broken_links(page)}"
    page.close()


def check_notebook_page(browser, edition, path: Path):
    page, problems = open_page(browser, edition / f"{path.stem}.html")
    assert not problems, f"{path.stem}.html reached beyond file:// or logged errors: {problems}"
    assert page.locator("h1").first.inner_text().rstrip("¶").strip() == first_heading(path)
    headings = page.eval_on_selector_all("h2, h3", "els => els.map(h => h.textContent)")
    for heading in HEADINGS:
        assert any(heading.lower() in h.lower() for h in headings), f"no '{heading}' heading"

    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) >= image_outputs(path), "an image of the notebook is missing"
    assert all(w > 0 for w in widths), f"images that did not decode: {widths}"

    # Pygments spans (keyword, name, string, ...) drawn in a colour of their own
    colors = page.evaluate("""() => {
        const token = document.querySelector('.highlight .k, .highlight .kn, .highlight .nb');
        return token && [getComputedStyle(token).color, getComputedStyle(document.body).color];
    }""")
    assert colors, "no highlighted code (Pygments classes) on the page"
    assert colors[0] != colors[1], f"code tokens have the body's colour {colors}"

    cells = nbformat.read(path, as_version=4).cells
    if any("$" in c.source for c in cells if c.cell_type == "markdown"):
        sizes = page.eval_on_selector_all(
            "math", "els => els.map(m => m.getBoundingClientRect().width)"
        )
        assert sizes and all(w > 0 for w in sizes), f"math not drawn: widths {sizes}"
    unconverted = page.eval_on_selector_all(".tex", "els => els.map(e => e.textContent)")
    assert not unconverted, f"TeX that latex2mathml could not convert: {unconverted}"

    hidden = page.locator("details:not([open]) > :not(summary)")
    if hidden.count():
        assert not hidden.first.is_visible(), "a closed <details> shows its answer key"
    assert not broken_links(page), f"links that lead nowhere: {broken_links(page)}"
    page.close()


PAGES = ["index"] + (["GLOSSARY"] if (ROOT / "GLOSSARY.md").exists() else [])
PAGES += [p.stem for p in BROWSED]


@pytest.mark.parametrize("name", PAGES)
def test_page_in_the_browser(browser, edition, name):  # browser first: no build when skipped
    if name == "index":
        check_index(browser, edition)
    elif name == "GLOSSARY":
        check_glossary(browser, edition)
    else:
        check_notebook_page(browser, edition, ROOT / "solutions" / f"{name}.ipynb")


def test_without_chromium_browser_tests_skip_on_a_laptop_and_fail_in_ci(tmp_path):
    """Run this file's browser tests with no browser reachable: CI unset, then CI=true."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CHROMIUM")}
    env.update(PATH=str(Path(sys.executable).parent), CHROMIUM=str(tmp_path / "no-chromium"))
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider",
               "-q", "-rs", "-k", "test_page_in_the_browser", __file__]
    laptop = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    assert laptop.returncode == 0, laptop.stdout[-2000:]
    skipped = [line for line in laptop.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "set CHROMIUM=" in skipped[0], laptop.stdout[-2000:]
    assert skipped[0].startswith(f"SKIPPED [{len(PAGES)}]"), skipped
    assert "passed" not in laptop.stdout and "failed" not in laptop.stdout

    ci = subprocess.run(command, env=env | {"CI": "true"}, capture_output=True, text=True,
                        cwd=ROOT)
    assert ci.returncode == 1, ci.stdout[-2000:]
    summary = ci.stdout.strip().splitlines()[-1]
    assert f"{len(PAGES)} errors" in summary and "skipped" not in summary, summary
    assert "Failed: CI=true: CHROMIUM=" in ci.stdout
