"""Joining separately laid-out PDFs into one, as if laid out as one document (pikepdf).

Each step is a function of its own: pages (with blank versos), one structure tree, one set of named
destinations, links between the parts, one outline, page labels, the furniture overlay, metadata.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pikepdf
from pikepdf import Array, Dictionary, Name, String

CROSS = "dsr-book:"  # the scheme of links to another part (see book.parts)
_FURNITURE = b"/Artifact <</Type /Pagination>> BDC q /DsrFurniture Do Q EMC\n"


@dataclass
class Part:
    """One laid-out PDF and how it joins: a blank verso after it, and whose outline item adopts its own."""

    data: bytes
    blank_after: bool = False
    outline_parent: int | None = None


@dataclass
class Joined:
    """The joined PDF while it is being put together."""

    pdf: pikepdf.Pdf
    roots: list[pikepdf.Object] = field(default_factory=list)  # each part's catalog, copied in
    starts: list[int] = field(default_factory=list)  # each part's first page
    counts: list[int] = field(default_factory=list)  # each part's own pages (blank versos not counted)


def join(parts: list[Part], labels: list[tuple[int, str]], overlay: bytes | None = None,
         stamped: list[bool] | None = None, keep_name: Callable[[str], bool] = lambda _: True) -> bytes:
    """The parts as one PDF: every step below, in order; saved with a deterministic /ID."""
    sources = [pikepdf.open(io.BytesIO(p.data)) for p in parts]
    out = Joined(pikepdf.new())
    append_pages(out, sources, [p.blank_after for p in parts])
    merge_structure(out)
    merge_destinations(out, keep_name)
    relink(out)
    merge_outline(out, [p.outline_parent for p in parts])
    page_labels(out, labels)
    if overlay is not None:
        stamp(out, pikepdf.open(io.BytesIO(overlay)), stamped or [True] * len(out.pdf.pages))
    copy_catalog(out)
    copy_info(out, sources[0])
    buffer = io.BytesIO()
    version = max(s.pdf_version for s in sources)
    out.pdf.save(buffer, deterministic_id=True, min_version=version,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return buffer.getvalue()


def append_pages(out: Joined, sources: list[pikepdf.Pdf], blank_after: list[bool]) -> None:
    """Every page of every source in order, a blank page (same boxes, no content) where asked."""
    for source, blank in zip(sources, blank_after, strict=True):
        out.starts.append(len(out.pdf.pages))
        out.counts.append(len(source.pages))
        for page in source.pages:
            out.pdf.pages.append(page)
        # Copied after its pages, so references to them land on the pages just appended.
        out.roots.append(out.pdf.copy_foreign(source.Root))
        if blank:
            like = out.pdf.pages[-1].obj
            # An empty content stream, as WeasyPrint's own blank pages have (later steps read it).
            page = Dictionary(Type=Name.Page, Resources=Dictionary(), Contents=out.pdf.make_stream(b""))
            for box in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
                if box in like:
                    page[box] = like[box]
            out.pdf.pages.append(pikepdf.Page(out.pdf.make_indirect(page)))


def merge_structure(out: Joined) -> None:
    """One structure tree: the first part's Document element holds every part's elements in order.

    The parent-tree keys of each part (its pages' /StructParents and its annotations' /StructParent)
    are moved past those of the parts before it.
    """
    trees = [r.get("/StructTreeRoot") for r in out.roots]
    if any(t is None for t in trees):
        return
    root = trees[0]
    document = root.K[0] if isinstance(root.K, Array) else root.K
    nums: list[pikepdf.Object] = []
    offset = 0
    for n, tree in enumerate(trees):
        pairs = list(tree.ParentTree.get("/Nums", Array()))
        keys = [int(k) for k in pairs[0::2]]
        for page in out.pdf.pages[out.starts[n]: out.starts[n] + out.counts[n]]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annot in page.obj.get("/Annots", Array()):
                if "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + offset
        for key, value in zip(keys, pairs[1::2], strict=True):
            nums += [key + offset, value]
        if n:
            own = tree.K[0] if isinstance(tree.K, Array) else tree.K
            for kid in own.K:
                kid.P = document
                document.K.append(kid)
        offset += max(keys, default=-1) + 1
    root.ParentTree = out.pdf.make_indirect(Dictionary(Nums=Array(nums)))
    root.ParentTreeNextKey = offset
    out.pdf.Root.StructTreeRoot = root


def merge_destinations(out: Joined, keep_name: Callable[[str], bool]) -> None:
    """One sorted name tree of destinations (ids are unique across the book)."""
    found: dict[str, pikepdf.Object] = {}
    for root in out.roots:
        dests = root.get("/Names", Dictionary()).get("/Dests")
        pairs = list(dests.get("/Names", Array())) if dests is not None else []
        for name, dest in zip(pairs[0::2], pairs[1::2], strict=True):
            if keep_name(str(name)):
                found.setdefault(str(name), dest)
    if found:
        flat = Array()
        for name in sorted(found):
            flat.append(String(name))
            flat.append(found[name])
        out.pdf.Root.Names = Dictionary(Dests=Dictionary(Names=flat))


def relink(out: Joined) -> None:
    """Links to another part become internal links to the named destination, as WeasyPrint writes them."""
    names = _destination_names(out.pdf)
    for page in out.pdf.pages:
        for annot in page.obj.get("/Annots", Array()):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(CROSS) and uri[len(CROSS):] in names:
                del annot["/A"]
                annot.Dest = String(uri[len(CROSS):])
                annot.Contents = String(uri[len(CROSS):])


def _destination_names(pdf: pikepdf.Pdf) -> set[str]:
    dests = pdf.Root.get("/Names", Dictionary()).get("/Dests")
    pairs = list(dests.get("/Names", Array())) if dests is not None else []
    return {str(n) for n in pairs[0::2]}


@dataclass
class _Item:
    obj: pikepdf.Object
    children: list[_Item] = field(default_factory=list)


def merge_outline(out: Joined, parents: list[int | None]) -> None:
    """One outline: each part's bookmarks in order; a part with a parent hangs them under its first item."""
    tops: list[_Item] = []
    firsts: list[list[_Item]] = []
    for n, root in enumerate(out.roots):
        outlines = root.get("/Outlines")
        items = _items(outlines.get("/First")) if outlines is not None else []
        firsts.append(items)
        parent = parents[n]
        if parent is not None and firsts[parent]:
            firsts[parent][0].children.extend(items)
        else:
            tops.extend(items)
    if not tops:
        return
    holder = out.pdf.make_indirect(Dictionary())
    holder.Count = _link(tops, holder)
    out.pdf.Root.Outlines = holder


def _items(first: pikepdf.Object | None) -> list[_Item]:
    items = []
    node = first
    while node is not None:
        items.append(_Item(node, _items(node.get("/First"))))
        node = node.get("/Next")
    return items


def _link(items: list[_Item], parent: pikepdf.Object) -> int:
    """Write First/Last/Prev/Next/Parent/Count for `items` under `parent`; return the visible count."""
    for key in ("/First", "/Last"):
        if key in parent:
            del parent[key]
    if items:
        parent.First, parent.Last = items[0].obj, items[-1].obj
    visible = len(items)
    for i, item in enumerate(items):
        node = item.obj
        node.Parent = parent
        for key in ("/Prev", "/Next"):
            if key in node:
                del node[key]
        if i:
            node.Prev = items[i - 1].obj
        if i + 1 < len(items):
            node.Next = items[i + 1].obj
        count = _link(item.children, node)
        node.Count = count
        visible += count
    return visible


def page_labels(out: Joined, labels: list[tuple[int, str]]) -> None:
    """Page labels from (first page, style): "r" lower-case roman, "D" decimal, each from 1."""
    nums = Array()
    for start, style in labels:
        nums.append(start)
        nums.append(Dictionary(S=Name("/" + style)))
    out.pdf.Root.PageLabels = Dictionary(Nums=nums)


def stamp(out: Joined, overlay: pikepdf.Pdf, stamped: list[bool]) -> None:
    """Draw overlay page i over page i where stamped, as pagination artifacts (not content)."""
    for page, over, wanted in zip(out.pdf.pages, overlay.pages, stamped, strict=True):
        if not wanted:
            continue
        form = out.pdf.copy_foreign(over.as_form_xobject())
        resources = Dictionary({k: v for k, v in page.obj.get("/Resources", Dictionary()).items()})
        xobjects = Dictionary({k: v for k, v in resources.get("/XObject", Dictionary()).items()})
        xobjects.DsrFurniture = form
        resources.XObject = xobjects
        page.obj.Resources = resources
        page.contents_add(out.pdf.make_stream(b"q\n"), prepend=True)
        page.contents_add(out.pdf.make_stream(b"\nQ\n" + _FURNITURE), prepend=False)


def copy_catalog(out: Joined) -> None:
    """The document-wide entries (metadata, language, viewer preferences, marking) once, from the first part."""
    first = out.roots[0]
    for key in ("/Metadata", "/Lang", "/MarkInfo", "/ViewerPreferences", "/OutputIntents"):
        if key in first:
            out.pdf.Root[key] = first[key]


def copy_info(out: Joined, source: pikepdf.Pdf) -> None:
    """The document information dictionary of `source` (title, author, dates)."""
    out.pdf.docinfo = out.pdf.copy_foreign(source.docinfo)
