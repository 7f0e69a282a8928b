"""DOCX runs in many scripts: fonts for every script class, languages, right-to-left paragraphs.

Word picks a run's font by the class of each character: `ascii` and `hAnsi` (Latin, Cyrillic,
Greek), `eastAsia` (CJK) and `cs` (complex scripts: Arabic, Devanagari...), and its language the
same way (`w:lang` val, eastAsia, bidi). pandoc names one font and one language; here each run
that holds more than Latin text is cut by script class and given the theme chain's font and the
language for each class, so Word and LibreOffice draw and lay it out as the PDF does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from lxml import etree

from .. import fontchain, scripts
from ..theme import Theme

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")

_NEUTRAL = {"Zyyy", "Zinh", "Zzzz"}
_HEADING_STYLES = {"Title", "Subtitle", "Author", "Date"} | {f"Heading{n}" for n in range(1, 7)}
# The order Word requires of a run's and a paragraph's properties (ECMA-376 CT_RPr, CT_PPr).
_RPR_ORDER = ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
              "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden",
              "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight", "u", "effect",
              "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout",
              "specVanish", "oMath"]
_PPR_ORDER = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
              "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
              "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
              "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc"]
# Word knows languages by culture name; a bare language gets its usual region.
_CULTURES = {"zh": "zh-CN", "zh-Hans": "zh-CN", "zh-Hant": "zh-TW", "ja": "ja-JP", "ko": "ko-KR",
             "fa": "fa-IR", "ug": "ug-CN", "ar": "ar-SA", "he": "he-IL", "hi": "hi-IN", "ru": "ru-RU",
             "kk": "kk-KZ", "ky": "ky-KG", "tg": "tg-TJ", "mn": "mn-MN", "el": "el-GR"}
# Noto CJK families by region: Han characters take each region's forms.
_REGIONS = {"ja": " JP", "ko": " KR", "zh-Hant": " TC", "zh-TW": " TC", "zh-HK": " HK"}


def q(name: str) -> str:
    return f"{{{W}}}{name}"


def edits(theme: Theme, lang: str) -> dict[str, Callable[[bytes], bytes]]:
    """Rewrites of the DOCX parts that hold text, for zipped.repack."""
    return {part: functools.partial(rewrite, theme=theme, lang=lang) for part in PARTS}


def _class(code: str) -> str:
    if code == "CJK":
        return "eastAsia"
    return "cs" if code in scripts.COMPLEX else "latin"


def rewrite(xml: bytes, theme: Theme, lang: str) -> bytes:
    """One part with every run that holds non-Latin text given fonts, languages and direction."""
    if not any(b > 0x7F for b in xml):  # nothing but ASCII: nothing to do
        return xml
    root = etree.fromstring(xml)
    changed = False
    for para in root.iter(q("p")):
        role = _role(para)
        for run in list(para.iter(q("r"))):
            changed |= _run(run, theme, role, lang)
        changed |= _direction(para)
    if not changed:  # the part as pandoc wrote it, byte for byte
        return xml
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _role(para: etree._Element) -> str:
    style = para.find(f"{q('pPr')}/{q('pStyle')}")
    name = style.get(q("val"), "") if style is not None else ""
    if name in _HEADING_STYLES:
        return "heading"
    return "mono" if name == "SourceCode" else "body"


def _pieces(text: str) -> list[tuple[str, str]]:
    """(class, text) pieces; neutral characters stay with the piece before them (else after)."""
    out: list[list[str]] = []
    lead = ""
    for code, piece in scripts.runs(text):
        if not code:
            if out:
                out[-1][1] += piece
            else:
                lead += piece
            continue
        kind = _class(code)
        if out and out[-1][0] == kind:
            out[-1][1] += piece
        else:
            out.append([kind, piece])
    if not out:
        return [("latin", lead)]
    out[0][1] = lead + out[0][1]
    return [(k, t) for k, t in out]


def _run(run: etree._Element, theme: Theme, role: str, doc_lang: str) -> bool:
    """Cut and mark one run; whether anything changed."""
    texts = [c for c in run if c.tag == q("t")]
    others = [c for c in run if c.tag not in (q("t"), q("rPr"))]
    if len(texts) != 1 or others or not texts[0].text:
        return False
    text = texts[0].text
    rpr = run.find(q("rPr"))
    if rpr is not None:
        style = rpr.find(q("rStyle"))
        if style is not None and style.get(q("val")) == "VerbatimChar":
            role = "mono"
    primary = fontchain.chain(theme, role)[0]
    if all(scripts.script(c) in ("Latn", *_NEUTRAL) and (c.isascii() or c.isspace()
           or fontchain.drawer(theme, role, ord(c)) == primary) for c in text):
        # Latin text as it is; only its language named as Word names languages
        lang_el = rpr.find(q("lang")) if rpr is not None else None
        if lang_el is not None and lang_el.get(q("val")) in _CULTURES:
            lang_el.set(q("val"), _CULTURES[lang_el.get(q("val"))])
            return True
        return False
    lang_el = rpr.find(q("lang")) if rpr is not None else None
    run_lang = lang_el.get(q("val")) if lang_el is not None else doc_lang
    pieces = _pieces(text)
    parent, at = run.getparent(), run.getparent().index(run)
    for n, (kind, piece) in enumerate(pieces):
        new = run if n == 0 else etree.Element(q("r"))
        if n:
            if rpr is not None:
                new.append(_copy(rpr))
            t = etree.SubElement(new, q("t"))
            parent.insert(at + n, new)
        else:
            t = texts[0]
        t.text = piece
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        _mark(new, kind, piece, theme, role, run_lang, doc_lang)
    return True


def _copy(el: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(el))


def _mark(run: etree._Element, kind: str, text: str, theme: Theme, role: str, run_lang: str,
          doc_lang: str) -> None:
    rpr = run.find(q("rPr"))
    if rpr is None:
        rpr = etree.Element(q("rPr"))
        run.insert(0, rpr)
    code = scripts.first_strong(text) or "Latn"
    if scripts.lang_script(run_lang) == code:
        lang = run_lang
    else:  # a Latin piece cut from a foreign run is in the document's language
        lang = doc_lang if code == "Latn" else scripts.guess_lang(code, text)
    fonts = _child(rpr, "rFonts")
    fonts.set(q("ascii"), _family(theme, role, "A", lang))
    latin = next((c for c in text if not c.isascii() and scripts.script(c) not in _NEUTRAL
                  and _class(scripts.script(c)) == "latin"), "A")
    fonts.set(q("hAnsi"), _family(theme, role, latin, lang))
    han = next((c for c in text if scripts.script(c) == "CJK"), "\u4e2d")
    fonts.set(q("eastAsia"), _family(theme, role, han, lang))
    complex_char = next((c for c in text if _class(scripts.script(c)) == "cs"), "\u0627")
    fonts.set(q("cs"), _family(theme, role, complex_char, lang))
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(q(attr), None)
    if kind == "eastAsia":
        fonts.set(q("hint"), "eastAsia")
    elif q("hint") in fonts.attrib:
        del fonts.attrib[q("hint")]
    lang_el = _child(rpr, "lang")
    culture = _CULTURES.get(lang, lang)
    lang_el.set(q("val"), _CULTURES.get(run_lang, run_lang) if kind != "latin" else culture)
    if kind == "eastAsia":
        lang_el.set(q("eastAsia"), culture)
    if kind == "cs":
        lang_el.set(q("bidi"), culture)
        for plain, complex_form in (("b", "bCs"), ("i", "iCs")):
            if rpr.find(q(plain)) is not None:
                _child(rpr, complex_form)
        _child(rpr, "rtl" if scripts.is_rtl(code) else "cs")
    else:
        for name in ("rtl", "cs"):
            found = rpr.find(q(name))
            if found is not None:
                rpr.remove(found)


def _family(theme: Theme, role: str, char: str, lang: str) -> str:
    """The chain's family for `char` (the role's family when none draws it), by region for Han."""
    family = fontchain.drawer(theme, role, ord(char)) or fontchain.chain(theme, role)[0]
    for prefix, region in _REGIONS.items():
        if lang == prefix or lang.startswith(prefix + "-"):
            for tail in (" SC", " TC", " JP", " KR", " HK"):
                if family.endswith(tail) and " CJK" in family:
                    regional = family[: -len(tail)] + region
                    if fontchain.faces(theme, regional):
                        return regional
    return family


def _child(parent: etree._Element, name: str) -> etree._Element:
    """`parent`'s child `name`, made where Word's order puts it if there is none."""
    found = parent.find(q(name))
    if found is not None:
        return found
    order = _RPR_ORDER if parent.tag == q("rPr") else _PPR_ORDER
    rank = order.index(name)
    new = etree.Element(q(name))
    for i, child in enumerate(parent):
        local = etree.QName(child).localname
        if local in order and order.index(local) > rank or local not in order:
            parent.insert(i, new)
            return new
    parent.append(new)
    return new


def _direction(para: etree._Element) -> bool:
    """A paragraph whose letters are all right to left reads right to left (w:bidi)."""
    text = "".join(t.text or "" for t in para.iter(q("t")))
    if text.isascii():
        return False
    codes = scripts.present(text)
    if not codes or not all(scripts.is_rtl(c) for c in codes):
        return False
    ppr = para.find(q("pPr"))
    if ppr is None:
        ppr = etree.Element(q("pPr"))
        para.insert(0, ppr)
    if ppr.find(q("bidi")) is not None:
        return False
    _child(ppr, "bidi")
    return True
