"""HTML: the themed, self-contained web page, and the HTML that PDF and EPUB start from."""

from __future__ import annotations

import base64
import mimetypes
import re
import weakref
from html import escape

from lxml import html as lhtml

from .. import pandoc
from ..document import Document
from ..metadata import Author
from ..sandbox import for_paths, read_bytes
from ..theme import FontFace
from ..transforms.scripts import tagged_html
from . import Job, Rendered, font_subsets

NAME = "html"
SUFFIX = ".html"
MEDIA_TYPE = "text/html"

_BODIES: weakref.WeakKeyDictionary[Document, str] = weakref.WeakKeyDictionary()


def body(doc: Document) -> str:
    """The document body as an HTML5 fragment with <section> per heading (one pandoc run per document)."""
    if doc not in _BODIES:
        out = pandoc.ast_to(
            doc.ast,
            "html5",
            ["--section-divs", "--wrap=none", "--mathml"],
            cwd=doc.folder,
            source=doc.source.path,
        )
        _BODIES[doc] = out.decode("utf-8")
    return _BODIES[doc]


def keep_body(doc: Document, body_html: str) -> None:
    """Use `body_html` as the document's body (made by pandoc in another process)."""
    _BODIES[doc] = body_html


def title_block(doc: Document) -> str:
    m = doc.meta
    lines = [f'<h1 class="title">{tagged_html(m.title, m.lang)}</h1>']  # lang and dir on foreign runs
    if m.subtitle:
        lines.append(f'<p class="subtitle">{tagged_html(m.subtitle, m.lang)}</p>')
    numbers = {name: i for i, name in enumerate(m.affiliations, start=1)}
    for author in m.authors:
        lines.append(f'<p class="author">{_author_line(author, numbers)}</p>')
    for name, number in numbers.items():
        lines.append(f'<p class="affiliation"><sup>{number}</sup>\u2009{escape(name)}</p>')
    for note in dict.fromkeys(a.note for a in m.authors if a.note):
        lines.append(f'<p class="affiliation author-note"><sup>*</sup>\u2009{escape(note)}</p>')
    if m.publisher:
        lines.append(f'<p class="publisher">{escape(m.publisher)}</p>')
    if m.date:
        lines.append(f'<p class="date">{escape(m.date)}</p>')
    return '<header id="title-block-header" class="title-block">\n' + "\n".join(lines) + "\n</header>"


def _author_line(author: Author, numbers: dict[str, int]) -> str:
    """A name with its affiliation numbers and ORCID iD as a link."""
    line = escape(author.name)
    marks = [str(numbers[a]) for a in author.affiliations] + (["*"] if author.note else [])
    if marks:
        line += "<sup>" + ",".join(marks) + "</sup>"
    if author.orcid:
        url = f"https://orcid.org/{author.orcid}"
        line += f' <a class="orcid" href="{url}" title="ORCID iD">ORCID {escape(url)}</a>'
    return line


def page(doc: Document, css: str, body_html: str, body_class: str = "") -> str:
    """A complete HTML5 document around `body_html`."""
    m = doc.meta
    head = [
        '<meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f"<title>{escape(m.title)}</title>",
    ]
    if m.authors:
        head.append(f'<meta name="author" content="{escape(m.author_line)}"/>')
    if m.description:
        head.append(f'<meta name="description" content="{escape(m.description)}"/>')
    if m.keywords:
        head.append(f'<meta name="keywords" content="{escape(", ".join(m.keywords))}"/>')
    if m.date:
        head.append(f'<meta name="dcterms.date" content="{escape(m.date)}"/>')
    head.append(f"<style>\n{css}\n</style>")
    cls = f' class="{body_class}"' if body_class else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(m.lang)}" xml:lang="{escape(m.lang)}">\n<head>\n'
        + "\n".join(head)
        + f"\n</head>\n<body{cls}>\n{title_block(doc)}\n<main>\n{body_html}\n</main>\n</body>\n</html>\n"
    )


def embed_images(doc: Document, body_html: str) -> str:
    """Local images become data: URIs so the page stands alone."""
    root = lhtml.fragment_fromstring(body_html, create_parent="div")
    sandbox = for_paths(doc.folder)
    changed = False
    for img in root.iter("img"):
        path = sandbox.local_file(img.get("src", ""))
        if path is not None:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            img.set("src", f"data:{kind};base64,{base64.b64encode(read_bytes(path, 'image', image=True)).decode()}")
            changed = True
    if not changed:
        return body_html
    return "".join(lhtml.tostring(child, encoding="unicode") for child in root)


def _font_data_uri(face: FontFace) -> str:
    kind = "font/otf" if face.path.suffix == ".otf" else "font/ttf"
    return f"data:{kind};base64,{base64.b64encode(face.path.read_bytes()).decode()}"


def titled_notes(body_html: str, title: str = "Notes") -> str:
    """pandoc's end-of-document notes under a heading of their own, so they do not read as more references."""
    return _NOTES.sub(lambda m: f'{m[1]}\n<h2 class="notes-title">{escape(title)}</h2>', body_html, count=1)


_NOTES = re.compile(r'(<section id="footnotes"[^>]*>)\s*<hr\s*/?>')


def write(job: Job) -> Rendered:
    css = job.theme.css("screen", font_url=_font_data_uri)
    text = titled_notes(embed_images(job.doc, body(job.doc)))
    whole = page(job.doc, css, text, "html-page")
    return Rendered(font_subsets.embed_in_html(whole, job.theme).encode("utf-8"))
