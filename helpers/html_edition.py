"""The HTML edition: the stored solution notebooks as static pages (``make html``).

Nothing is executed: every ``solutions/NN_name.ipynb`` is rendered with its stored
outputs by nbconvert, next to an ``index.html`` that lists every question and a
``GLOSSARY.html`` rendered from ``GLOSSARY.md``. The pages work offline, from
``file://``: plots are embedded as ``data:`` URIs, the code-highlighting CSS is
inline, math is converted to MathML (drawn by the browser itself), and nbconvert's
CDN scripts (MathJax, require.js, mermaid, widgets) are left out.
Links between notebooks and to the glossary are rewritten to the rendered pages.

Usage::

    python -m helpers.html_edition                 # solutions/ -> build/html/ (`make html`)
    python -m helpers.html_edition --out site/     # somewhere else
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import jinja2
import nbformat
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

__all__ = ["Question", "build_html", "main", "question_summary", "rewrite_link"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOLUTIONS = ROOT / "solutions"
DEFAULT_OUT = ROOT / "build" / "html"
INDEX = "index.html"
GLOSSARY_MD, GLOSSARY_HTML = "GLOSSARY.md", "GLOSSARY.html"
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")  # Chinese characters and full-width punctuation
# A link with a scheme (https:, mailto:, data:) or a same-page anchor is left alone.
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|#|/)", re.I)
IMG_SRC = re.compile(r"""(<img\b[^>]*?\bsrc\s*=\s*)(["'])(.*?)\2""", re.I)
HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(.*?)\2""", re.I)
# How a notebook labels its English question: "**Question 2:** ...", "**The interview
# question:** ...", "... As an interview task: ...".
ASKED = re.compile(
    r"^\*\*(Question\b|The (interview )?question\b)"  # at the start of a paragraph
    r"|(^|(?<=\. ))As an interview task"  # or as a sentence
)
# Where the article's answer starts inside the quoted question (the index shows only the question).
ANSWER_MARKERS = ("**答案", "**解析")

# nbconvert's "lab" page without the blocks that load code from a CDN; a navigation
# line (index, previous, next, glossary) above every notebook.
PAGE_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style>
  .edition-nav { max-width: 1200px; margin: 0 auto; padding: 8px 16px;
                 font-family: var(--jp-ui-font-family); font-size: 14px; }
  .edition-nav a { margin-right: 1.5em; }
  .jp-RenderedMarkdown math { font-size: 1.1em; }
  .jp-RenderedMarkdown .tex { font-family: var(--jp-code-font-family); }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{%- if resources.edition_nav %}
<nav class="edition-nav">
{%- for text, href in resources.edition_nav %}<a href="{{ href }}">{{ text }}</a>{% endfor %}
</nav>
{%- endif %}
{%- endblock body_header -%}
"""


def rewrite_link(url: str, source_dir: Path, pages: dict[Path, str], out_dir: Path) -> str:
    """Where ``url``, written in a file in ``source_dir``, points in the HTML edition.

    ``pages`` maps resolved source paths (``solutions/02_lstm.ipynb``,
    ``notebooks/02_lstm.ipynb``, ``GLOSSARY.md``) to page names in ``out_dir``
    (``02_lstm.html``). Other relative links are pointed at the original file;
    absolute URLs and ``#anchors`` are returned unchanged.
    """
    if not url or EXTERNAL.match(url):
        return url
    path, hash_, fragment = url.partition("#")
    target = (source_dir / unquote(path)).resolve()
    page = pages.get(target)
    if page is None:  # not rendered (e.g. helpers/data.py): link to the file itself
        page = Path(os.path.relpath(target, out_dir.resolve())).as_posix()
    return page + hash_ + fragment


class _EditionRenderer(IPythonRenderer):
    """nbconvert's markdown renderer with links rewritten and math as MathML."""

    def __init__(self, rewrite, **options):
        super().__init__(**options)
        self._rewrite = rewrite

    def link(self, text, url, title=None):
        return super().link(text, self._rewrite(url), title)

    def _rewrite_hrefs(self, html: str) -> str:
        return HREF.sub(lambda m: m[1] + m[2] + self._rewrite(m[3]) + m[2], html)

    def block_html(self, html):
        return super().block_html(self._rewrite_hrefs(html))

    def inline_html(self, html):
        return super().inline_html(self._rewrite_hrefs(html))

    def _html_embed_images(self, html):
        # nbconvert's version re-serialises the fragment with BeautifulSoup, which closes a
        # <details> left open for the markdown that follows: the hidden answer key would show.
        return IMG_SRC.sub(lambda m: m[1] + m[2] + (self._src_to_base64(m[3]) or m[3]) + m[2], html)

    # MathML, which browsers draw natively: no MathJax, no network. TeX that the
    # converter cannot read is shown as written rather than failing the build.
    def _math(self, body: str, display: str) -> str:
        try:
            return latex_to_mathml(body, display=display)
        except Exception:  # latex2mathml raises many types (IndexError, its own errors)
            delimiter = "$$" if display == "block" else "$"
            return f'<span class="tex">{delimiter}{self.escape_html(body)}{delimiter}</span>'

    def inline_math(self, body):
        return self._math(body, "inline")

    def block_math(self, body):
        return self._math(body, "block")

    def latex_environment(self, name, body):
        return self._math(f"\\begin{{{name}}}{body}\\end{{{name}}}", "block")


class _EditionExporter(HTMLExporter):
    """HTMLExporter whose markdown links point at the edition's pages."""

    def __init__(self, pages: dict[Path, str], out_dir: Path, **kwargs):
        super().__init__(template_name="lab", embed_images=True, **kwargs)
        self.raw_template = PAGE_TEMPLATE
        self.pages, self.out_dir = pages, out_dir

    @jinja2.pass_context  # the filter needs the cell (attachments) and resources (path)
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        path = Path(context.get("resources", {}).get("metadata", {}).get("path", "."))
        renderer = _EditionRenderer(
            lambda url: rewrite_link(url, path, self.pages, self.out_dir),
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=str(path),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)

    def page(self, nb, source_dir: Path, name: str, nav=()) -> str:
        """The HTML of ``nb``; its relative links and images are read from ``source_dir``."""
        resources = {"metadata": {"path": str(source_dir), "name": name}, "edition_nav": nav}
        html, _ = self.from_notebook_node(nb, resources=resources)
        return html


@dataclass
class Question:
    """What the index shows for one notebook (markdown strings, taken from its first cell)."""

    path: Path
    number: str
    title: str  # the first "# " heading, e.g. "02 · How an LSTM processes ..."
    chinese: str  # the article's question as quoted (blockquote lines), "" if none
    english: str  # the English question, "" if none found
    page: str  # e.g. "02_lstm.html"
    # the English translation of the quote when it is a paragraph of its own (not the question)
    translation: str = ""


def _paragraphs(markdown: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", markdown) if p.strip()]


def question_summary(nb, path: Path) -> Question:
    """Title, Chinese question and English question of a notebook, from its first cell."""
    first = nb.cells[0].source if nb.cells else ""
    heading = re.search(r"^# +(.+)$", first, re.M)
    title = heading[1].strip() if heading else path.stem
    paragraphs = [p for p in _paragraphs(first) if not p.startswith("# ")]
    chinese = []  # the first quoted paragraph with Chinese in it, up to the article's answer
    quote = next((p for p in paragraphs if p.startswith(">") and CJK.search(p)), "")
    for line in quote.splitlines():
        text = line.lstrip(">").strip()
        if text.startswith(ANSWER_MARKERS):
            break
        if text:
            chinese.append(text)
    prose = [p for p in paragraphs if not p.startswith(">") and not CJK.search(p)]
    after = paragraphs[paragraphs.index(quote) + 1 :] if quote else paragraphs
    found = next((m for m in map(ASKED.search, prose) if m), None)
    english = found.string[found.start() :] if found else ""
    asked_in = found.string if found else ""  # the paragraph the English question comes from
    if not english:  # no labelled question: the first English paragraph after the quote
        english = asked_in = next(
            (p for p in after if p in prose and not p.startswith("**How to")), ""
        )
    asked_first = re.match(r"(.*?\?\**)", english, re.S)  # the question, not what follows it
    english = asked_first[1] if asked_first else english
    # The paragraph right after the quote translates it (06, 08, 09 quote a passage, then
    # ask their own question); when it is the question itself (01-05) it is shown once.
    translation = after[0] if quote and after and after[0] != asked_in else ""
    if translation.startswith(("**How to", "Terms in")) or translation.startswith(">"):
        translation = ""
    return Question(
        path, path.stem[:2], title, "\n".join(chinese), english, path.stem + ".html", translation
    )


def _check_executed(nb, path: Path) -> None:
    """A ValueError naming ``path`` unless it was stored executed (the edition runs nothing)."""
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    unrun = [c for c in code if c.get("execution_count") is None]
    with_outputs = sum(bool(c.get("outputs")) for c in code)
    if code and (unrun or not with_outputs):
        raise ValueError(
            f"{path} is not executed ({len(unrun)} of {len(code)} code cells never ran, "
            f"{with_outputs} have outputs); the HTML edition shows stored outputs and runs "
            f"nothing. Execute it first: jupyter nbconvert --to notebook --execute --inplace {path}"
        )


def _index_markdown(title: str, questions: list[Question], has_glossary: bool) -> str:
    """The index page as markdown; links use source paths and are rewritten like any other."""
    lines = [
        f"# {title} · HTML edition",
        "",
        "The worked solutions with their stored outputs: each question of the source article, "
        "answered claim by claim, every claim proven by a cell that was run. "
        "To run the notebooks and do the exercises, clone the repository and run `make lab`.",
        "",
    ]
    if has_glossary:
        lines += [f"Terms in Chinese and English: [the glossary]({GLOSSARY_MD}).", ""]
    for q in questions:
        heading = q.title if q.title.startswith(q.number) else f"{q.number} · {q.title}"
        lines += [f"## [{heading}]({q.path.parent.name}/{q.path.name})", ""]
        if q.chinese:
            lines += ["> " + line for line in q.chinese.splitlines()] + [""]
        if q.translation:
            lines += [q.translation, ""]
        if q.english:
            lines += [q.english, ""]
        lines += [f"[Read notebook {q.number} →]({q.path.parent.name}/{q.path.name})", ""]
    return "\n".join(lines)


def _markdown_notebook(markdown: str, title: str):
    """A one-cell notebook, so that index and glossary get the notebooks' exact look."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)])
    nb.metadata["title"] = title
    return nb


def _readme_title(root: Path) -> str:
    readme = root / "README.md"
    heading = re.search(r"^# +(.+)$", readme.read_text("utf-8"), re.M) if readme.exists() else None
    return heading[1].strip() if heading else "Notebooks"


def build_html(
    solutions_dir: Path | str = DEFAULT_SOLUTIONS, out_dir: Path | str = DEFAULT_OUT
) -> list[Path]:
    """Render ``solutions_dir/*.ipynb`` (stored executed) and an index into ``out_dir``.

    The glossary (``GLOSSARY.md`` next to ``solutions_dir``) is rendered too when
    it exists. Returns the pages written, index first. Raises ValueError when
    ``solutions_dir`` is missing, holds no notebook, or holds one that was not executed.
    """
    solutions_dir, out_dir = Path(solutions_dir).resolve(), Path(out_dir).resolve()
    if not solutions_dir.is_dir():
        raise ValueError(f"no solutions folder at {solutions_dir}")
    paths = sorted(solutions_dir.glob("*.ipynb"))
    if not paths:
        raise ValueError(f"no notebooks (*.ipynb) in {solutions_dir}")
    notebooks = [nbformat.read(p, as_version=4) for p in paths]
    for nb, path in zip(notebooks, paths, strict=True):
        _check_executed(nb, path)  # all checked before anything is written
    questions = [question_summary(nb, p) for nb, p in zip(notebooks, paths, strict=True)]

    # Every source file that has a page in the edition, by resolved path.
    root = solutions_dir.parent
    glossary = root / GLOSSARY_MD
    pages = {root / "README.md": INDEX}  # the index stands in for the README
    for q in questions:
        pages[q.path] = pages[root / "notebooks" / q.path.name] = q.page
    if glossary.exists():
        pages[glossary] = GLOSSARY_HTML
    exporter = _EditionExporter(pages, out_dir)
    back = ("← All questions", INDEX)
    glossary_nav = [("Glossary", GLOSSARY_HTML)] if glossary.exists() else []

    out_dir.mkdir(parents=True, exist_ok=True)
    title = _readme_title(root)
    index = _markdown_notebook(_index_markdown(title, questions, glossary.exists()), title)
    written = {out_dir / INDEX: exporter.page(index, root, "index")}
    if glossary.exists():
        nb = _markdown_notebook(glossary.read_text("utf-8"), "Glossary")
        written[out_dir / GLOSSARY_HTML] = exporter.page(nb, root, "GLOSSARY", [back])
    for i, (nb, q) in enumerate(zip(notebooks, questions, strict=True)):
        nav = [back, *glossary_nav]
        if i > 0:
            nav.append((f"‹ {questions[i - 1].number}", questions[i - 1].page))
        if i + 1 < len(questions):
            nav.append((f"{questions[i + 1].number} ›", questions[i + 1].page))
        nb.metadata["title"] = q.title  # the page's <title>
        written[out_dir / q.page] = exporter.page(nb, solutions_dir, q.path.stem, nav)
    for path, html in written.items():
        path.write_text(html, "utf-8")
    return list(written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.html_edition",
        description="Render the stored solution notebooks as static HTML (runs nothing).",
    )
    parser.add_argument("--solutions", type=Path, default=DEFAULT_SOLUTIONS,
                        help="folder of executed notebooks (default: solutions/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: build/html/)")
    args = parser.parse_args(argv)
    try:
        written = build_html(args.solutions, args.out)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    index = written[0]
    print(f"wrote {len(written)} pages to {index.parent}")
    print(f"open it: xdg-open {index}   (macOS: open {index}; or {index.as_uri()} in a browser)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
