"""Writing systems of text: the script of each character, a language guessed from letters, direction."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from fontTools import unicodedata as ucd

# Scripts that share one run: Japanese mixes Han with kana, Korean may mix Han with Hangul.
_CJK = {"Hani", "Hira", "Kana", "Hang", "Bopo"}
# Scripts shaped into glyphs that do not map one to one onto letters (Word's "complex scripts").
COMPLEX = {"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Deva", "Beng", "Guru", "Gujr", "Orya", "Taml",
           "Telu", "Knda", "Mlym", "Sinh", "Thai", "Laoo", "Tibt", "Mymr", "Khmr"}
RTL = {"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Yezi"}
# Scripts that share the neutral class (their characters never start a run of their own).
_NEUTRAL = {"Zyyy", "Zinh", "Zzzz"}

# The font package that covers a script, for the [missing-glyph] warning (Debian package names).
PACKAGES = {
    "Hani": "fonts-noto-cjk", "Hira": "fonts-noto-cjk", "Kana": "fonts-noto-cjk",
    "Hang": "fonts-noto-cjk", "Bopo": "fonts-noto-cjk",
    "Zsye": "fonts-noto-color-emoji",
}
DEFAULT_PACKAGE = "fonts-noto-core"

# Letters that single out a language within its script, most distinctive first.
_LETTERS: dict[str, list[tuple[str, str]]] = {
    "Arab": [("ug", "\u06d0\u06c7\u06c8\u06c6\u06cb"), ("fa", "\u067e\u0686\u0698\u06af\u06cc\u06a9")],
    "Cyrl": [
        ("uz-Cyrl", "\u045e\u040e"),
        ("tg", "\u04e3\u04ef\u04b7\u04b3\u04e2\u04ee\u04b6\u04b2"),
        ("kk", "\u04d9\u04b1\u0456\u04bb\u049b\u0493\u04d8\u04b0\u0406\u04ba\u049a\u0492"),
        ("ky", "\u04a3\u04a2"),
        ("mn", "\u04e9\u04af\u04e8\u04ae"),
    ],
}
# The language of a script's text when no letter says more.
_DEFAULT_LANG = {"Cyrl": "ru", "Grek": "el", "Deva": "hi", "Arab": "ar", "Hebr": "he", "Thai": "th"}
# The script a language is written in, when its tag does not say (BCP 47 subtags win).
_LANG_SCRIPT = {
    "ru": "Cyrl", "kk": "Cyrl", "ky": "Cyrl", "tg": "Cyrl", "mn": "Cyrl", "uk": "Cyrl", "be": "Cyrl",
    "bg": "Cyrl", "sr": "Cyrl", "mk": "Cyrl", "el": "Grek", "fa": "Arab", "ug": "Arab", "ar": "Arab",
    "ur": "Arab", "ps": "Arab", "he": "Hebr", "yi": "Hebr", "hi": "Deva", "mr": "Deva", "ne": "Deva",
    "zh": "CJK", "ja": "CJK", "ko": "CJK", "th": "Thai",
}


@functools.lru_cache(maxsize=8192)
def script(char: str) -> str:
    """The ISO 15924 code of `char`'s script, with Han, kana and Hangul as one: "CJK"."""
    code = ucd.script(char)
    return "CJK" if code in _CJK else code


def name(code: str) -> str:
    """A script's English name ("Arabic", "Cyrillic"; "CJK" for Han, kana and Hangul)."""
    return "Chinese, Japanese or Korean (CJK)" if code == "CJK" else ucd.script_name(code, code)


def package(code: str) -> str:
    return "fonts-noto-cjk" if code == "CJK" else PACKAGES.get(code, DEFAULT_PACKAGE)


def runs(text: str) -> Iterator[tuple[str, str]]:
    """`text` cut into (script, piece); neutral characters (spaces, digits, punctuation) join the run
    they stand in, and a run's trailing neutrals are a piece of their own (script "")."""
    current, start, last_strong = "", 0, 0
    for i, char in enumerate(text):
        code = script(char)
        if code in _NEUTRAL:
            continue
        if code != current:
            if current:
                yield current, text[start:last_strong]
                start = last_strong
            if start < i:
                yield "", text[start:i]
            current, start = code, i
        last_strong = i + 1
        # combining marks that follow belong to this letter
        while last_strong < len(text) and script(text[last_strong]) == "Zinh":
            last_strong += 1
    if current:
        yield current, text[start:last_strong]
        start = last_strong
    if start < len(text):
        yield "", text[start:]


def present(text: str) -> set[str]:
    """The scripts of the letters of `text` (each distinct character looked at once)."""
    return {script(c) for c in set(text)} - _NEUTRAL


def lang_script(lang: str) -> str | None:
    """The script a BCP 47 tag implies: its script subtag, else its language's usual script."""
    parts = lang.replace("_", "-").split("-")
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            code = part.title()
            return "CJK" if code in _CJK or code in ("Hans", "Hant", "Jpan", "Kore") else code
    if parts[0].lower() in _LANG_SCRIPT:
        return _LANG_SCRIPT[parts[0].lower()]
    return "Latn" if re.fullmatch(r"[a-zA-Z]{2,3}", parts[0]) else None


def guess_lang(code: str, text: str) -> str:
    """The language of `text` in script `code`: from letters only it uses, else the script's usual one."""
    for lang, letters in _LETTERS.get(code, []):
        if any(c in text for c in letters):
            return lang
    if code == "CJK":
        if any(ucd.script(c) in ("Hira", "Kana") for c in text):
            return "ja"
        return "ko" if any(ucd.script(c) == "Hang" for c in text) else "zh"
    return _DEFAULT_LANG.get(code, f"und-{code}")


def is_rtl(code: str) -> bool:
    return code in RTL


def first_strong(text: str) -> str | None:
    """The script of the first letter of `text`, if any."""
    found = present(text)
    if len(found) <= 1:
        return found.pop() if found else None
    return next((code for code, piece in runs(text) if code), None)
