"""Language and direction for text in another script than its surroundings, where the author gave none.

A paragraph, plain block or heading written wholly in another script gets `lang` (and `dir=rtl`
for a right-to-left script) itself; a run inside other text becomes a Span with them. What
the author marked (`[text]{lang=fa dir=rtl}`, `::: {lang=ug dir=rtl}`) is kept as written.
"""

from __future__ import annotations

from typing import Any

from .. import scripts

_TEXT = {"Str", "Space", "SoftBreak"}
_BLOCKS_WITH_INLINES = {"Para", "Plain"}


def apply(tree: dict[str, Any]) -> None:
    lang = tree.get("meta", {}).get("lang", {}).get("c", "en")
    tree["blocks"] = _blocks(tree["blocks"], lang if isinstance(lang, str) else "en", False)


def _attr_lang(attr: list[Any], lang: str, rtl: bool) -> tuple[str, bool]:
    pairs = dict(attr[2])
    lang = pairs.get("lang", lang)
    rtl = pairs["dir"] == "rtl" if "dir" in pairs else rtl
    return lang, rtl


def _foreign(code: str, lang: str) -> bool:
    """Whether text in script `code` needs its own language inside text in `lang`."""
    if code == "Latn":  # a Latin script's language cannot be told from its letters
        return False
    return scripts.lang_script(lang) != code


def _marks(code: str, text: str, rtl: bool) -> list[list[str]]:
    pairs = [["lang", scripts.guess_lang(code, text)]]
    if scripts.is_rtl(code) != rtl:
        pairs.append(["dir", "rtl" if scripts.is_rtl(code) else "ltr"])
    return pairs


def _blocks(blocks: list[Any], lang: str, rtl: bool) -> list[Any]:
    out = []
    for block in blocks:
        kind, content = block.get("t"), block.get("c")
        if kind == "Div":
            inner_lang, inner_rtl = _attr_lang(content[0], lang, rtl)
            content[1] = _blocks(content[1], inner_lang, inner_rtl)
        elif kind in _BLOCKS_WITH_INLINES or kind == "Header":
            inlines = content if kind != "Header" else content[2]
            here_lang, here_rtl = _attr_lang(content[1], lang, rtl) if kind == "Header" else (lang, rtl)
            whole = _only_script(inlines)
            if whole and _foreign(whole, here_lang):
                text = _text(inlines)
                marks = _marks(whole, text, here_rtl)
                if kind == "Header":
                    content[1][2].extend(marks)
                else:
                    block = {"t": "Div", "c": [["", [], marks], [block]]}
                here_lang, here_rtl = scripts.guess_lang(whole, text), scripts.is_rtl(whole)
            _walk_inlines(inlines, here_lang, here_rtl)
        else:
            _walk_any(content, lang, rtl)
        out.append(block)
    return out


def _walk_any(node: Any, lang: str, rtl: bool) -> None:
    """Blocks and inlines nested anywhere (lists, tables, quotes, notes)."""
    if isinstance(node, list):
        if node and all(isinstance(n, dict) and "t" in n for n in node):
            if any(n["t"] in _BLOCK_KINDS for n in node):
                node[:] = _blocks(node, lang, rtl)
                return
            if any(n["t"] in _INLINE_KINDS for n in node):
                _walk_inlines(node, lang, rtl)
                return
        for item in node:
            _walk_any(item, lang, rtl)
    elif isinstance(node, dict):
        if "t" in node:
            _walk_any(node.get("c"), lang, rtl)
        else:
            for value in node.values():
                _walk_any(value, lang, rtl)


_BLOCK_KINDS = {"Para", "Plain", "Header", "Div", "BulletList", "OrderedList", "BlockQuote", "Table",
                "DefinitionList", "LineBlock", "CodeBlock", "RawBlock", "HorizontalRule", "Figure"}
_INLINE_KINDS = {"Str", "Space", "SoftBreak", "LineBreak", "Emph", "Strong", "Span", "Link", "Note",
                 "Cite", "Quoted", "Code", "Math", "RawInline", "Image", "Underline", "Strikeout",
                 "Superscript", "Subscript", "SmallCaps"}


def _text(inlines: list[Any]) -> str:
    parts: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("t") == "Str":
                parts.append(node["c"])
            elif node.get("t") in ("Space", "SoftBreak"):
                parts.append(" ")
            elif node.get("t") not in ("Note", "Code", "Math", "RawInline"):
                visit(node.get("c"))
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(inlines)
    return "".join(parts)


def _only_script(inlines: list[Any]) -> str | None:
    """The one script all letters of `inlines` are in (notes aside), if there is exactly one."""
    text = _text(inlines)
    if text.isascii():  # the common case, at C speed
        return "Latn" if any(c.isalpha() for c in text) else None
    found = scripts.present(text)
    return found.pop() if len(found) == 1 else None


def _walk_inlines(inlines: list[Any], lang: str, rtl: bool) -> None:
    for node in inlines:
        kind, content = node.get("t"), node.get("c")
        if kind == "Span":
            inner_lang, inner_rtl = _attr_lang(content[0], lang, rtl)
            _walk_inlines(content[1], inner_lang, inner_rtl)
        elif kind == "Note":
            content[:] = _blocks(content, lang, rtl)
        elif kind in ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps"):
            _walk_inlines(content, lang, rtl)
        elif kind == "Quoted" or kind in ("Link", "Cite"):
            _walk_inlines(content[1], lang, rtl)
    texts = _text([n for n in inlines if n.get("t") in _TEXT])
    if not texts.isascii() and any(_foreign(code, lang) for code in scripts.present(texts)):
        inlines[:] = _spans(inlines, lang, rtl)


def _spans(inlines: list[Any], lang: str, rtl: bool) -> list[Any]:
    """`inlines` with each run of foreign-script text (Str, spaces) wrapped in a Span."""
    out: list[Any] = []
    group: list[Any] = []
    group_code = ""
    pending: list[Any] = []  # neutral text after the group, kept out unless the group goes on

    def close() -> None:
        nonlocal group, group_code, pending
        if group:
            text = _text(group)
            out.append({"t": "Span", "c": [["", [], _marks(group_code, text, rtl)], group]})
        out.extend(pending)
        group, group_code, pending = [], "", []

    for node in inlines:
        kind = node.get("t")
        if kind not in _TEXT:
            close()
            out.append(node)
            continue
        if kind != "Str":
            (pending if group else out).append(node)
            continue
        for code, piece in scripts.runs(node["c"]):
            item = {"t": "Str", "c": piece}
            if not code:
                (pending if group else out).append(item)
            elif _foreign(code, lang) and code == group_code:
                group.extend(pending)
                pending = []
                group.append(item)
            elif _foreign(code, lang):
                close()
                group, group_code = [item], code
            else:
                close()
                out.append(item)
    close()
    return out


def tagged_html(text: str, lang: str) -> str:
    """`text` as escaped HTML, each run in another script than `lang`'s in a span with lang (and dir)."""
    from html import escape

    out: list[str] = []
    group: list[str] = []
    group_code, pending = "", ""

    def close() -> None:
        nonlocal group, group_code, pending
        if group:
            joined = "".join(group)
            attrs = "".join(f' {k}="{escape(v)}"' for k, v in _marks(group_code, joined, False))
            out.append(f"<span{attrs}>{escape(joined)}</span>")
        out.append(escape(pending))
        group, group_code, pending = [], "", ""

    for code, piece in scripts.runs(text):
        if not code:
            if group:
                pending += piece
            else:
                out.append(escape(piece))
        elif _foreign(code, lang) and code == group_code:
            group.extend([pending, piece])
            pending = ""
        elif _foreign(code, lang):
            close()
            group, group_code = [piece], code
        else:
            close()
            out.append(escape(piece))
    close()
    return "".join(out)
