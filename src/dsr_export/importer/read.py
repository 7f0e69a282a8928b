"""An edited DOCX back into the Markdown source: front matter kept, body, citations and changes from Word."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import ast as A
from .. import pandoc
from .. import source as src
from ..errors import Diagnostic, DsrError
from . import body as B
from . import changes, cites, frontmatter, written
from .fields import replace_fields, unmapped_formatting
from .package import open_docx

Node = dict[str, Any]
TRACK_CHANGES = changes.MODES


@dataclass
class Imported:
    """The Markdown made from a DOCX, the bibliography entries only the DOCX knew, and the warnings."""

    markdown: str
    items: dict[str, Node] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    citations: int = 0
    media: dict[str, bytes] = field(default_factory=dict)  # pictures to save, by the path the Markdown gives


def read_docx(path: Path, into: Path | None = None, track_changes: str = "accept",
              bibliography: str | None = None, media: str = "media") -> Imported:
    """Read `path` (a DOCX) and make the Markdown source it stands for.

    `into` is the source it was built from (its front matter is kept); without one, `bibliography`
    names the file the caller writes the citations' embedded entries to; new or changed pictures
    are given paths in the folder `media`, and their bytes are returned for the caller to save.
    """
    package = open_docx(path)
    source = src.read(into) if into is not None else None
    notes: list[str] = unmapped_formatting(package)
    found = replace_fields(package)
    notes += found.problems
    with tempfile.TemporaryDirectory(prefix="dsr-import-") as tmp:
        docx = Path(tmp) / "in.docx"
        docx.write_bytes(package.to_bytes())
        out, _ = pandoc.run(["--from", "docx+styles", "--to", "json", "--track-changes=all", "--sandbox",
                             str(docx)], b"", cwd=Path(tmp), source=path)
    tree = json.loads(out)
    keys: dict[str, str] = {}
    items: dict[str, Node] = {}
    bibliography_entries = _bibliography(source, notes) if source is not None else None
    known = {i: key for key, ref in (bibliography_entries or {}).items() for i in cites.identity(ref.data)}
    made = [cites.to_cite(f, keys, items, known) for f in found.citations]
    for _, problems in made:
        notes += problems
    body = B.Body()
    blocks = B.clean(tree["blocks"], body)
    blocks = B.place_markers(blocks, lambda n: json.loads(json.dumps(made[n][0])))
    blocks = B.note_citations(blocks)
    blocks = changes.apply(blocks, track_changes)
    blocks = _tidy(blocks)
    notes += body.warnings
    notes += _typed(blocks)
    source_ast = _source_ast(source) if source is not None else None
    pictures: dict[str, bytes] = {}
    if source_ast is not None:
        _restore_headings(blocks, source_ast)
        _restore_images(blocks, source_ast, package, source, notes, media, pictures)
        if not any(n.get("t") == "Div" and A.attr(n)[0] == "refs" for n in A.walk(source_ast["blocks"])):
            blocks = [b for b in blocks if b != B.REFS]
    else:
        _restore_images(blocks, None, package, None, notes, media, pictures)
    if bibliography_entries is not None:
        notes += _unknown_keys(bibliography_entries, made)
    rendered = written.render_each(blocks, tree["pandoc-api-version"], path)
    if source is not None:
        text, lost = written.as_written(blocks, rendered, source, source.text[len(frontmatter.block(source.text)):])
        notes += lost
    else:
        text = "\n\n".join(r.strip("\n") for r in rendered if r.strip()) + "\n"
    head, more = frontmatter.make(source, tree["meta"], body.matter, package, bibliography if items else None)
    notes += more
    warnings = [Diagnostic(n, path, None, "import", "warning") for n in notes]
    return Imported(head + text, items, warnings, len(found.citations), pictures)


def _tidy(node: Any) -> Any:
    """No doubled or dangling spaces where a change or a citation was taken out."""
    if isinstance(node, list):
        out: list[Any] = []
        for item in (_tidy(x) for x in node):
            if isinstance(item, dict) and item.get("t") == "Space" and out and isinstance(out[-1], dict) \
                    and out[-1].get("t") in ("Space", "SoftBreak"):
                continue
            if isinstance(item, dict) and item.get("t") == "Str" and out and isinstance(out[-1], dict) \
                    and out[-1].get("t") == "Str":
                out[-1] = {"t": "Str", "c": out[-1]["c"] + item["c"]}
                continue
            out.append(item)
        return out
    if isinstance(node, dict):
        tidied = {k: _tidy(v) if isinstance(v, (list, dict)) else v for k, v in node.items()}
        if tidied.get("t") in ("Para", "Plain"):
            content = tidied["c"]
            while content and content[0].get("t") == "Space":
                content.pop(0)
            while content and content[-1].get("t") == "Space":
                content.pop()
        return tidied
    return node


def _typed(blocks: list[Node]) -> list[str]:
    """Text that reads like a citation typed by hand rather than inserted as a field."""
    found = []
    for block in A.walk(blocks):
        if block.get("t") not in ("Para", "Plain"):
            continue
        text = A.stringify([i for i in block["c"] if i.get("t") != "Cite"])
        for hit in cites.typed_citations(text):
            found.append(f"{B._place(block)}: \u201c{hit}\u201d looks like a citation typed as text; "
                         "insert it as a citation (e.g. [@key]) to keep it live")
    return found


def _source_ast(source: src.Source) -> Node:
    out, _ = pandoc.run(["--from", pandoc.MARKDOWN, "--to", "json"], source.text.encode("utf-8"),
                        cwd=source.folder, source=source.path)
    return json.loads(out)


def _restore_headings(blocks: list[Node], source_ast: Node) -> None:
    """Headings keep the identifiers and classes the source gave them (Word keeps only the text)."""
    by_text: dict[tuple[int, str], list[Any]] = {}
    for node in A.walk(source_ast["blocks"]):
        if node.get("t") == "Header":
            by_text.setdefault((node["c"][0], " ".join(A.stringify(node["c"][2]).split())), []).append(node["c"][1])
    for node in A.walk(blocks):
        if node.get("t") == "Header":
            same = by_text.get((node["c"][0], " ".join(A.stringify(node["c"][2]).split())))
            if same:  # headings of the same text take the source's attributes in turn
                node["c"][1] = same.pop(0)


def _restore_images(blocks: list[Node], source_ast: Node | None, package: Any, source: src.Source | None,
                    notes: list[str], media: str, pictures: dict[str, bytes]) -> None:
    """Pictures whose bytes are unchanged point at the source's file again, with its attributes;
    the others are saved under `media`, with a warning."""
    by_hash: dict[str, Node] = {}
    for node in A.walk(source_ast["blocks"] if source_ast else []):
        if node.get("t") == "Image" and source is not None:
            file = source.folder / node["c"][2][0]
            if file.is_file():
                by_hash[hashlib.sha256(file.read_bytes()).hexdigest()] = node
    for node in A.walk(blocks):
        if node.get("t") != "Image":
            continue
        inside = node["c"][2][0]
        data = package.entries.get("word/" + inside) or package.entries.get(inside)
        original = by_hash.get(hashlib.sha256(data).hexdigest()) if data else None
        if original is not None:
            node["c"][0], node["c"][2] = original["c"][0], original["c"][2]
            continue
        alt = A.stringify(node["c"][1])[:50]
        if data is None:
            notes.append(f"picture \u201c{alt}\u201d ({inside}) is not inside the DOCX; its path is kept")
            continue
        target = f"{media}/{Path(inside).name}"
        pictures[target] = data
        node["c"][2] = [target, node["c"][2][1]]
        notes.append(f"picture \u201c{alt}\u201d is new or changed in the DOCX; saved as {target}")


def _bibliography(source: src.Source, notes: list[str]) -> dict[str, Any] | None:
    """The entries of the source's bibliographies, by key (none, with a warning, if they cannot be read)."""
    from ..citations import load_bibliographies
    from ..config import Options
    from ..document import bibliography_paths

    try:
        return load_bibliographies(list(bibliography_paths(source, Options())), source.path)
    except DsrError as exc:  # the import still reads the DOCX; the build will report the file itself
        notes.append(f"the source's bibliography could not be read ({exc.format()}); citation keys are not checked")
        return None


def _unknown_keys(known: dict[str, Any], made: list[tuple[Node, list[str]]]) -> list[str]:
    """Citations the editor added whose entries the source's bibliographies lack."""
    cited = dict.fromkeys(c["citationId"] for cite, _ in made for c in cite["c"][0])
    return [f"citation @{key} is not in the source's bibliography; add its entry (the DOCX has it as CSL JSON)"
            for key in cited if key not in known]