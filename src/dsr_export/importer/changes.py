"""Word's tracked changes and comments (as pandoc reads them) -> accepted, rejected, or CriticMarkup."""

from __future__ import annotations

from typing import Any

from .. import ast as A

Node = dict[str, Any]
MODES = ("accept", "reject", "critic")


def _raw(text: str) -> Node:
    return {"t": "RawInline", "c": ["markdown", text]}


def _kind(node: Any) -> str | None:
    if isinstance(node, dict) and node.get("t") == "Span":
        classes = node["c"][0][1]
        for name in ("insertion", "deletion", "comment-start", "comment-end",
                     "paragraph-insertion", "paragraph-deletion"):
            if name in classes:
                return name
    return None


def _who(span: Node) -> str:
    pairs = dict(span["c"][0][2])
    author, date = pairs.get("author", ""), pairs.get("date", "")
    return ", ".join(x for x in (author, date) if x)


def _comment_text(span: Node) -> str:
    return " ".join(A.stringify(span["c"][1]).split())


def apply(node: Any, mode: str, comments: dict[str, str] | None = None) -> Any:
    """The tree with every change span resolved by `mode` and every comment as {>>who: text<<}."""
    comments = {} if comments is None else comments
    if isinstance(node, list):
        return _inlines(node, mode, comments)
    if isinstance(node, dict):
        return {k: apply(v, mode, comments) if isinstance(v, (list, dict)) else v for k, v in node.items()}
    return node


def _inlines(items: list[Any], mode: str, comments: dict[str, str]) -> list[Any]:
    out: list[Any] = []
    i = 0
    while i < len(items):
        item = items[i]
        kind = _kind(item)
        if kind is None:
            out.append(apply(item, mode, comments))
        elif kind in ("paragraph-insertion", "paragraph-deletion"):
            pass  # a paragraph mark: the paragraphs themselves already stand as they are
        elif kind == "comment-start":
            ident = item["c"][0][0]
            who = _who(item)
            comments[ident] = f"{who}: {_comment_text(item)}" if who else _comment_text(item)
            closes_here = any(_kind(x) == "comment-end" and x["c"][0][0] == ident for x in items[i + 1:])
            if mode == "critic" and closes_here:
                out.append(_raw("{=="))
                comments[ident] = "==}" + comments[ident]
        elif kind == "comment-end":
            ident = item["c"][0][0]
            text = comments.pop(ident, None)
            if text is not None:
                close, text = ("==}", text[3:]) if text.startswith("==}") else ("", text)
                out.append(_raw(close + "{>>" + text + "<<}"))
        else:
            content = apply(item["c"][1], mode, comments)
            if mode == "critic":
                nxt = items[i + 1] if i + 1 < len(items) else None
                if kind == "deletion" and _kind(nxt) == "insertion":
                    added = apply(nxt["c"][1], mode, comments)
                    out += [_raw("{~~"), *content, _raw("~>"), *added, _raw("~~}")]
                    i += 2
                    continue
                mark = "++" if kind == "insertion" else "--"
                out += [_raw("{" + mark), *content, _raw(mark + "}")]
            elif (kind == "insertion") == (mode == "accept"):
                out.extend(content)
            else:  # taken out: no space left before the punctuation that followed it
                nxt = items[i + 1] if i + 1 < len(items) else None
                if out and out[-1].get("t") == "Space" and isinstance(nxt, dict) and nxt.get("t") == "Str" \
                        and nxt["c"][:1] in tuple(".,;:!?)"):
                    out.pop()
        i += 1
    return out
