"""PDF/UA repairs of WeasyPrint's structure tree: links, page furniture, notes, formulas, tables, order.

WeasyPrint (70) tags a page as it lays it out, and leaves a few things a PDF/UA check fails on:
a link's nested boxes get link annotations of their own that sit outside any `Link` element,
running heads and folios are marked as content of elements that are in no tree, notes and
formulas are `Span` and `Figure`, table headers have no scope, inline images and list markers
are painted after the text around them. `tag()` mends those in the PDF itself, after layout,
so it runs on any PDF the writer lays out; it changes nothing that is drawn.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Collection, Iterator, Mapping, Sequence

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from . import pdf_order

# Inline elements: a Div holding only these holds a paragraph.
_INLINE = {"/Span", "/Link", "/NonStruct", "/Formula", "/Note", "/Reference", "/Quote", "/Code"}
_PRINT, _HIDDEN, _NO_VIEW = 4, 2, 32  # annotation flags
_ALT = re.compile(r'<img\b[^>]*\brole="math"[^>]*\balt="([^"]*)"')
_HYPHENS = ("\u2010", "\u00ad", "-")  # a word broken at a line's end
_LEADER = re.compile(r"(?:\s*\.){3,}\s*")  # the dots of a contents line
_NOTE = re.compile(r'<span\s+class="footnote"\s+id="([^"]*)"')


def formulas_of(document_html: str) -> list[str]:
    """The TeX of every formula drawn for print (the alt text of its image), in order."""
    return [html.unescape(tex) for tex in _ALT.findall(document_html)]


def notes_of(document_html: str) -> list[str]:
    """The ids of the notes set at the foot of the page, in order."""
    return [html.unescape(ident) for ident in _NOTE.findall(document_html)]


def tag(pdf_bytes: bytes, *, formulas: Collection[str] = (), notes: Sequence[str] = ()) -> bytes:
    """`pdf_bytes` with its structure tree mended for PDF/UA; a PDF without one is returned as is.

    `formulas` are the alternative texts of figures that are formulas; `notes` the ids of the
    notes in order (notes get `note-N` ids where they are not given or do not match in number).
    """
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        if "/StructTreeRoot" not in pdf.Root:
            return pdf_bytes
        retag(pdf, formulas=formulas, notes=notes, texts=_marked_texts(pdf_bytes))
        out = io.BytesIO()
        # deterministic: two builds of one source stay byte for byte the same
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


def retag(pdf: pikepdf.Pdf, *, formulas: Collection[str] = (), notes: Sequence[str] = (),
          texts: Mapping[tuple[int, int], str] | None = None) -> None:
    """Mend the structure tree of `pdf` in place (see the module's docstring).

    `texts` gives the text of each marked-content sequence by (page index, MCID); a link inside
    the document is then described by its text.
    """
    tree = _Tree(pdf)
    _furniture_as_artifacts(pdf, tree)
    _links(tree)
    _merge_split_links(pdf, tree)
    if texts:
        _describe_links(pdf, tree, texts)
    _notes(pdf, tree, notes)
    order = _tree_order(tree)
    for page in pdf.pages:
        if page.obj.objgen in order:
            pdf_order.paint_in_tree_order(pdf, page, order[page.obj.objgen])
    for element in tree.root.K if isinstance(tree.root.K, Array) else [tree.root.K]:
        _prune(element)
    wanted = set(formulas)
    for element in tree.elements():
        kind = element.S
        if kind == "/Figure" and str(element.get("/Alt", "")) in wanted:
            element.S = Name.Formula
        elif kind == "/TH":
            _scope(element)
        elif kind == "/Div" and _holds_only_inline(element):
            element.S = Name.P


class _Tree:
    """The structure tree: its elements, and the parent tree that maps content to them."""

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self.root = pdf.Root.StructTreeRoot
        self.parents = pikepdf.NumberTree(self.root.ParentTree)

    def elements(self) -> Iterator[Dictionary]:
        """Every structure element reachable from the root, parents before children."""
        stack = list(reversed(_kids(self.root)))
        while stack:
            element = stack.pop()
            if isinstance(element, Dictionary) and "/S" in element:
                yield element
                stack.extend(reversed(_kids(element)))

    def reachable(self) -> set[tuple[int, int]]:
        return {element.objgen for element in self.elements()}


def _tree_order(tree: _Tree) -> dict[tuple[int, int], list[int]]:
    """Each page's MCIDs in the order a reader meets them in the tree (kids in their /K order)."""
    order: dict[tuple[int, int], list[int]] = {}
    stack: list[tuple[object, object]] = [(kid, None) for kid in reversed(_kids(tree.root))]
    while stack:
        item, page = stack.pop()
        if isinstance(item, int):
            if page is not None:
                order.setdefault(page, []).append(item)  # type: ignore[arg-type]
        elif isinstance(item, Dictionary) and "/S" in item:
            own = item.get("/Pg")
            here = own.objgen if own is not None else page
            stack.extend((kid, here) for kid in reversed(_kids(item)))
    return order


def _kids(element: Dictionary) -> list:  # type: ignore[type-arg]
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _set_kids(element: Dictionary, kids: list) -> None:  # type: ignore[type-arg]
    element.K = Array(kids)


def _is_objr(kid: object) -> bool:
    return isinstance(kid, Dictionary) and kid.get("/Type") == "/OBJR"


def _furniture_as_artifacts(pdf: pikepdf.Pdf, tree: _Tree) -> None:
    """Content of elements outside the tree (WeasyPrint's margin boxes: running heads, folios)
    becomes a pagination artifact, and leaves the parent tree."""
    reachable = tree.reachable()
    for page in pdf.pages:
        if "/StructParents" not in page.obj:
            continue
        key = int(page.obj.StructParents)
        mapping = tree.parents.get(key)
        if mapping is None:
            continue
        orphans = {
            mcid for mcid, element in enumerate(mapping)
            if not isinstance(element, Dictionary) or element.objgen not in reachable
        }
        if not orphans:
            continue
        _rewrite_marks(page.obj, orphans, pdf)
        for stream in _forms(page.obj):
            _rewrite_marks(stream, orphans, pdf)
        tree.parents[key] = Array([None if i in orphans else e for i, e in enumerate(mapping)])


def _forms(holder: pikepdf.Object, seen: set[tuple[int, int]] | None = None) -> Iterator[pikepdf.Object]:
    """The form XObjects a page or form draws, at any depth."""
    seen = set() if seen is None else seen
    resources = holder.get("/Resources") or {}
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
            seen.add(xobject.objgen)
            yield xobject
            yield from _forms(xobject, seen)


def _artifact() -> list:  # type: ignore[type-arg]
    return [Name.Artifact, Dictionary(Type=Name.Pagination)]


def _rewrite_marks(holder: pikepdf.Object, orphans: set[int], pdf: pikepdf.Pdf) -> None:
    """Turn each marked-content sequence whose MCID is in `orphans` into a pagination artifact."""
    instructions = pikepdf.parse_content_stream(holder)
    changed = False
    out = []
    for instruction in instructions:
        operands, operator = instruction.operands, instruction.operator
        if str(operator) == "BDC" and len(operands) == 2 and isinstance(operands[1], Dictionary):
            mcid = operands[1].get("/MCID")
            if mcid is not None and int(mcid) in orphans:
                out.append(pikepdf.ContentStreamInstruction(_artifact(), operator))
                changed = True
                continue
        out.append(instruction)
    if not changed:
        return
    data = pikepdf.unparse_content_stream(out)
    if isinstance(holder, pikepdf.Stream):
        holder.write(data)
    else:
        holder.Contents = pdf.make_stream(data)


def _links(tree: _Tree) -> None:
    """Every link annotation's OBJR into its `Link` element, and every `Link` with a text or `/Alt`.

    WeasyPrint gives each box inside a link an annotation of its own (a `span` in an `a`, the
    `a::after` of a contents leader), filed under that box's element; the annotation belongs
    to the link, so its OBJR moves to the nearest `Link` above, and a nested `Link` becomes a `Span`.
    """
    elements = list(tree.elements())
    for element in elements:
        objrs = [kid for kid in _kids(element) if _is_objr(kid)]
        if not objrs:
            continue
        link = _ancestor_link(element)
        if link is None:
            element.S = Name.Link
            continue
        _set_kids(element, [kid for kid in _kids(element) if not _is_objr(kid)])
        _set_kids(link, [*_kids(link), *objrs])
        for objr in objrs:
            annotation = objr.Obj
            if "/StructParent" in annotation:
                tree.parents[int(annotation.StructParent)] = link
        if element.S == "/Link":
            element.S = Name.Span
    for element in tree.elements():
        if element.S != "/Link":
            continue
        for kid in _kids(element):
            if _is_objr(kid):
                # printed like the page it is on, never hidden from a reader (PDF/A and PDF/UA)
                kid.Obj.F = (int(kid.Obj.get("/F", 0)) | _PRINT) & ~(_HIDDEN | _NO_VIEW)
        if "/Alt" not in element and not _has_content(element):
            alt = _link_description(element)
            if alt:
                element.Alt = String(alt)


def _marked_texts(pdf_bytes: bytes) -> dict[tuple[int, int], str]:
    """The text of each marked-content sequence, keyed by (page index, MCID), read with PDFium."""
    import ctypes

    import pypdfium2 as pdfium
    from pypdfium2 import raw

    texts: dict[tuple[int, int], str] = {}
    document = pdfium.PdfDocument(pdf_bytes)
    try:
        for number in range(len(document)):
            page = document[number]
            text_page = page.get_textpage()
            for item in page.get_objects(max_depth=8):
                if item.type != raw.FPDF_PAGEOBJ_TEXT:
                    continue
                mcid = raw.FPDFPageObj_GetMarkedContentID(item.raw)
                size = raw.FPDFTextObj_GetText(item.raw, text_page.raw, None, 0)  # bytes, UTF-16
                buffer = (ctypes.c_ushort * (size // 2 + 1))()
                raw.FPDFTextObj_GetText(item.raw, text_page.raw, buffer, size)
                text = bytes(buffer)[:size].decode("utf-16-le", "replace").rstrip("\x00")
                texts[(number, mcid)] = texts.get((number, mcid), "") + text
    finally:
        document.close()
    return texts


def _merge_split_links(pdf: pikepdf.Pdf, tree: _Tree) -> None:
    """A link broken over lines is one `Link` per line from WeasyPrint; neighbours that lead to the
    same place become one element, so a reader meets the link once."""
    keys = {page.obj.objgen: int(page.obj.StructParents) for page in pdf.pages if "/StructParents" in page.obj}
    for parent in list(tree.elements()):
        kids = _kids(parent)
        merged: list = []  # type: ignore[type-arg]
        for kid in kids:
            previous = merged[-1] if merged else None
            if (isinstance(previous, Dictionary) and isinstance(kid, Dictionary) and previous.get("/S") == "/Link"
                    and kid.get("/S") == "/Link" and _target(previous) and _target(previous) == _target(kid)):
                _move_kids(kid, previous, tree, keys)
                continue
            merged.append(kid)
        if len(merged) != len(kids):
            _set_kids(parent, merged)


def _target(link: Dictionary) -> str:
    for kid in _kids(link):
        if _is_objr(kid):
            annotation = kid.Obj
            if "/A" in annotation and "/URI" in annotation.A:
                return "uri:" + str(annotation.A.URI)
            if "/Dest" in annotation:
                return "dest:" + str(annotation.Dest)
    return ""


def _move_kids(source: Dictionary, target: Dictionary, tree: _Tree, keys: dict[tuple[int, int], int]) -> None:
    """All of `source`'s kids into `target`, and the parent tree told so."""
    page = source.get("/Pg")
    for kid in _kids(source):
        if isinstance(kid, int) and page is not None and page.objgen in keys:
            mapping = tree.parents[keys[page.objgen]]
            mapping[kid] = target
        elif _is_objr(kid) and "/StructParent" in kid.Obj:
            tree.parents[int(kid.Obj.StructParent)] = target
        elif isinstance(kid, Dictionary) and "/S" in kid:
            kid.P = target
    _set_kids(target, [*_kids(target), *_kids(source)])


def _describe_links(pdf: pikepdf.Pdf, tree: _Tree, texts: Mapping[tuple[int, int], str]) -> None:
    """Each link inside the document gets its text as its annotations' `/Contents` (their
    alternative description, PDF/UA 7.18.5), in place of WeasyPrint's anchor name.

    A link broken over two lines or pages is two `Link`s whose content follows on in reading
    order; both are described by the whole text.
    """
    numbers = {page.obj.objgen: number for number, page in enumerate(pdf.pages)}
    reading = [item for top in _kids(tree.root) if isinstance(top, Dictionary) for item in _marked(top, None)]
    position = {item: index for index, item in enumerate(reading)}
    groups: list[tuple[str, int, list[Dictionary]]] = []
    for element in tree.elements():
        if element.S != "/Link" or not _target(element) or _target(element).startswith("uri:"):
            continue  # an address is described by itself
        marked = list(_marked(element, None))
        if not marked:
            continue
        first, last = position[marked[0]], position[marked[-1]]
        if groups and groups[-1][0] == _target(element) and groups[-1][1] + 1 == first:
            groups[-1] = (groups[-1][0], last, [*groups[-1][2], element])
        else:
            groups.append((_target(element), last, [element]))
    for _, _, links in groups:
        text = ""
        for link in links:  # one per line: the space at a line's end is not drawn, a hyphen is
            line = "".join(texts.get((numbers.get(page, -1), mcid), "") for page, mcid in _marked(link, None))
            line = line.replace("\u200b", "").replace("\x02", "")
            text = text[:-1] + line if text.endswith(_HYPHENS) else f"{text} {line}"
        text = " ".join(_LEADER.sub(" ", text).split())
        if not text:
            continue
        for link in links:
            for kid in _kids(link):
                if _is_objr(kid):
                    kid.Obj.Contents = String(text)


def _marked(element: Dictionary, page: object) -> Iterator[tuple[object, int]]:
    """(page, MCID) of the marked content in `element` and below it, in order."""
    own = element.get("/Pg")
    here = own.objgen if own is not None else page
    for kid in _kids(element):
        if isinstance(kid, int):
            yield here, kid
        elif isinstance(kid, Dictionary) and "/S" in kid:
            yield from _marked(kid, here)


def _ancestor_link(element: Dictionary) -> Dictionary | None:
    parent = element.get("/P")
    while isinstance(parent, Dictionary) and "/S" in parent:
        if parent.S == "/Link":
            return parent
        parent = parent.get("/P")
    return None


def _has_content(element: Dictionary) -> bool:
    """Whether marked content (an MCID) sits in `element` or below it."""
    for kid in _kids(element):
        if isinstance(kid, int):
            return True
        if isinstance(kid, Dictionary) and (kid.get("/Type") == "/MCR" or ("/S" in kid and _has_content(kid))):
            return True
    return False


def _link_description(link: Dictionary) -> str:
    """A link's target in words: its address, or the place in the document it leads to."""
    for kid in _kids(link):
        if _is_objr(kid):
            annotation = kid.Obj
            action = annotation.get("/A")
            if action is not None and "/URI" in action:
                return str(action.URI)
            if "/Contents" in annotation:
                return str(annotation.Contents)
    return ""


def _notes(pdf: pikepdf.Pdf, tree: _Tree, ids: Sequence[str]) -> None:
    """Each note in WeasyPrint's footnote area becomes a `Note` with an id.

    WeasyPrint files a page's footnote area after the page's body among the document's
    children, as an element of no HTML element (`NonStruct`) whose children are the notes
    (`span.footnote`, so `Span`): the last such child of its page, and not its first.
    """
    document = _kids(tree.root)[0]
    by_page: dict[tuple[int, int], list[Dictionary]] = {}
    for element in _kids(document):
        if isinstance(element, Dictionary) and "/Pg" in element:
            by_page.setdefault(element.Pg.objgen, []).append(element)
    found: list[Dictionary] = []
    for children in by_page.values():
        area = children[-1]
        kids = [kid for kid in _kids(area) if isinstance(kid, Dictionary) and "/S" in kid]
        if len(children) > 1 and area.S == "/NonStruct" and kids and all(k.S == "/Span" for k in kids):
            found.extend(kids)
    names = list(ids) if len(ids) == len(found) else [f"note-{n}" for n in range(1, len(found) + 1)]
    for element, name in zip(found, names):
        element.S = Name.Note
        element.ID = String(name)
    if found:
        tree.root.IDTree = pdf.make_indirect(Dictionary(Names=Array(
            [item for name, element in sorted(zip(names, found)) for item in (String(name), element)])))


def _scope(header: Dictionary) -> None:
    """`/Scope` for a table header: a row's first cell in a body heads its row, others their column."""
    row = header.get("/P")
    section = row.get("/P") if isinstance(row, Dictionary) else None
    kids = _kids(row) if isinstance(row, Dictionary) else []
    first = bool(kids) and isinstance(kids[0], Dictionary) and kids[0].objgen == header.objgen
    in_body = isinstance(section, Dictionary) and section.get("/S") == "/TBody"
    scope = Name.Row if in_body and first and _heads_a_row(row) else Name.Column
    attributes = header.get("/A")
    if isinstance(attributes, Dictionary):
        attributes.Scope = scope
    else:
        header.A = Dictionary(O=Name.Table, Scope=scope)


def _heads_a_row(row: Dictionary) -> bool:
    """A body row whose first cell is a header and whose others are data."""
    kinds = [str(kid.get("/S")) for kid in _kids(row) if isinstance(kid, Dictionary)]
    return len(kinds) > 1 and kinds[0] == "/TH" and "/TD" in kinds[1:]


def _prune(element: Dictionary) -> bool:
    """Drop the elements below `element` that hold nothing (a `<br>`, a box whose only content was
    an annotation); whether `element` itself still holds something."""
    kept = []
    for kid in _kids(element):
        if isinstance(kid, Dictionary) and "/S" in kid and not _prune(kid):
            continue
        kept.append(kid)
    if len(kept) != len(_kids(element)):
        _set_kids(element, kept)
    return bool(kept) or "/Alt" in element or "/ActualText" in element


def _holds_only_inline(element: Dictionary) -> bool:
    kids = _kids(element)
    return bool(kids) and all(
        isinstance(kid, Dictionary) and str(kid.get("/S")) in _INLINE for kid in kids
    )
