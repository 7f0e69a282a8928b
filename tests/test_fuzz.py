"""Generated and mutated sources: `check` and `build` exit 0, 1 or 2, never crash, never leave part of a file."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_security import png

from dsr_export import cli

# Deterministic, no example database on disk: CI runs the same cases every time. The total
# (2,100 `check` cases by default, plus 40 builds and 4 PDF builds) can be lowered for a quick look.
CASES = int(os.environ.get("DSR_FUZZ_CASES", "2100"))
FAST = settings(max_examples=max(CASES // 3, 1), deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
BUILDS = settings(FAST, max_examples=max(CASES // 50, 1))
PDF_BUILDS = settings(FAST, max_examples=max(CASES // 500, 1))

KEYS = ["smith2020", "jones2019", "lee-2021", "missing", "Smith2020", "o'brien", "ünï", ""]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True), TEXT)
YAML_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(["name", "bio", "family", "given", "literal", "x"]) | TEXT,
                                             inner, max_size=4), max_leaves=12)
FRONT_KEYS = ["title", "subtitle", "author", "date", "lang", "bibliography", "csl", "theme", "image-credit",
              "disclaimer", "link-citations", "keywords", "publisher", "rights", "description", "identifier",
              "nocite", "references", "abstract"]

BLOCKS = st.sampled_from([
    "# Heading", "## Sub {#same}", "## Again {#same}", "Plain text with *emphasis* and `code`.",
    "As argued by @smith2020, it holds [@jones2019, p. 4; @lee-2021].", "[@missing]", "[-@smith2020]",
    "![alt](inside.png)", "![](inside.png)", "![gone](nothere.png)", "![](http://example.invalid/x.png)",
    "![x](file:///etc/passwd)", "![x](../outside.png)", '<img src="/etc/passwd">', "<iframe src='x'></iframe>",
    "<style>@import 'http://example.invalid/a.css';</style>", "Note.[^1]\n\n[^1]: The note [@smith2020].",
    "::: {#refs}\n:::", "# References {.unnumbered}", "| a | b |\n|---|---|\n| 1 | 2 |", "$$x^2$$", "$\\frac{1}{",
    "- one\n    - two\n        - three", "> quote\n>> deeper", "```\ncode\n```", "```{=html}\n<b>raw\n```",
    "<div>unclosed", "</section>", "<svg><text>&amp;</text></svg>", "\\", "\u0000", "\ufeff", "\u202e rtl",
    "[link](#nowhere)", "[link](<javascript:alert(1)>)", "***", "---", "...", "Term\n:   Definition",
])


def run(argv: list[str]) -> tuple[int, str]:
    """cli.main in this process, with its stderr captured; an exception here fails the test."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(argv)
    return status, err.getvalue()


def assert_clean(status: int, stderr: str) -> None:
    assert status in (0, 1, 2), (status, stderr)
    assert "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr  # a bug of ours, not an answer to bad input


REFS = [
    {"id": "smith2020", "type": "book", "author": [{"family": "Smith", "given": "Ann"}], "title": "A Book",
     "issued": {"date-parts": [[2020]]}},
    {"id": "jones2019", "type": "article-journal", "author": [{"family": "Jones"}], "title": "An Article",
     "container-title": "Journal", "issued": {"date-parts": [[2019, 5]]}},
    {"id": "lee-2021", "type": "webpage", "author": [{"literal": "Lee Institute"}], "title": "A Page",
     "URL": "https://example.invalid", "issued": {"date-parts": [[2021]]}},
]


@contextlib.contextmanager
def project(markdown: str, bibliography: tuple[str, str] | None = None):
    """A fresh folder with the source, a picture and a bibliography (CSL YAML unless given)."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        (folder / "inside.png").write_bytes(png(2, 2))
        name, text = bibliography or ("refs.yaml", yaml.safe_dump({"references": REFS}))
        (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        (folder / "paper.md").write_text(markdown, encoding="utf-8", errors="surrogatepass")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def with_front_matter(front: dict[str, object], body: str) -> str:
    return "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n\n" + body + "\n"


def mutate(data: st.DataObject, text: str) -> str:
    """Cut, duplicate or insert characters at places hypothesis chooses."""
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(text)))
        how = data.draw(st.sampled_from(["cut", "insert", "duplicate", "truncate"]))
        if how == "cut":
            text = text[:at] + text[at + data.draw(st.integers(1, 20)):]
        elif how == "insert":
            text = text[:at] + data.draw(st.sampled_from(["---", "\n", ":", "[@", "]", "{", "'", '"', "\t", "- ",
                                                          "<", "&", "\\", "%", "*", "#", "@"]) | TEXT) + text[at:]
        elif how == "duplicate":
            text = text[:at] + text[at:at + 30] + text[at:]
        else:
            text = text[:at]
    return text


front_matter = st.dictionaries(st.sampled_from(FRONT_KEYS), YAML_VALUES, max_size=6)
bodies = st.lists(BLOCKS | TEXT, max_size=8).map("\n\n".join)


@FAST
@given(front=front_matter, body=bodies)
def test_check_survives_generated_front_matter_and_markdown(front: dict[str, object], body: str) -> None:
    front.setdefault("bibliography", "refs.yaml")
    with project(with_front_matter(front, body)) as folder:
        assert_clean(*run(["check", str(folder / "paper.md")]))


@FAST
@given(data=st.data(), front=front_matter, body=bodies, strict=st.booleans())
def test_check_survives_mutated_sources(data: st.DataObject, front: dict[str, object], body: str,
                                        strict: bool) -> None:
    front["bibliography"] = "refs.yaml"
    text = mutate(data, with_front_matter(front, body))
    with project(text) as folder:
        assert_clean(*run(["check", str(folder / "paper.md"), *(["--strict"] if strict else [])]))


def bibliography_files() -> st.SearchStrategy[tuple[str, str]]:
    entries = st.lists(st.dictionaries(
        st.sampled_from(["id", "type", "author", "title", "issued", "container-title", "page", "URL", "editor",
                         "DOI", "language", "note"]), YAML_VALUES, max_size=6), max_size=4)
    fixed = st.sampled_from(REFS).map(lambda r: [r])
    as_yaml = (entries | fixed).map(lambda e: ("refs.yaml", yaml.safe_dump({"references": e}, allow_unicode=True)))
    as_json = (entries | fixed).map(lambda e: ("refs.json", json.dumps(e)))
    as_bib = st.tuples(st.sampled_from(["book", "article", "misc", "", "@"]), st.sampled_from(KEYS), TEXT, TEXT).map(
        lambda t: ("refs.bib", f"@{t[0]}{{{t[1]},\n  author = {{{t[2]}}},\n  title = {{{t[3]}}},\n  year = 2020\n}}\n"))
    return as_yaml | as_json | as_bib


@FAST
@given(data=st.data(), bib=bibliography_files(), body=bodies)
def test_check_survives_generated_and_mutated_bibliographies(data: st.DataObject, bib: tuple[str, str],
                                                             body: str) -> None:
    name, text = bib
    text = mutate(data, text)
    with project(with_front_matter({"title": "T", "bibliography": name}, body), (name, text)) as folder:
        assert_clean(*run(["check", str(folder / "paper.md")]))


def assert_built_or_nothing(status: int, stderr: str, out: Path, formats: list[str]) -> None:
    assert_clean(status, stderr)
    names = sorted(p.name for p in out.iterdir()) if out.exists() else []
    if status == 0:
        assert names == sorted(f"paper.{f}" for f in formats), names
        for f in formats:
            assert (out / f"paper.{f}").stat().st_size > 0
    else:
        assert names == [], names  # a failed build writes nothing, not even a temporary file


@BUILDS
@given(data=st.data(), front=front_matter, body=bodies)
def test_build_survives_mutated_sources(data: st.DataObject, front: dict[str, object], body: str) -> None:
    front["bibliography"] = "refs.yaml"
    formats = data.draw(st.lists(st.sampled_from(["html", "epub", "docx"]), min_size=1, unique=True))
    with project(mutate(data, with_front_matter(front, body))) as folder:
        out = folder / "out"
        status, stderr = run(["build", str(folder / "paper.md"), "--out", str(out), "--to", ",".join(formats)])
        assert_built_or_nothing(status, stderr, out, formats)


@PDF_BUILDS
@given(front=front_matter, body=bodies)
def test_pdf_build_survives_generated_sources(front: dict[str, object], body: str) -> None:
    front["bibliography"] = "refs.yaml"
    with project(with_front_matter(front, body)) as folder:
        out = folder / "out"
        status, stderr = run(["build", str(folder / "paper.md"), "--out", str(out), "--to", "pdf"])
        assert_built_or_nothing(status, stderr, out, ["pdf"])
