"""The DOCX package: checked to be one, its parts read, and the parts we rewrite put back."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..errors import DsrError

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
DOCUMENT = "word/document.xml"
NOTES = ("word/footnotes.xml", "word/endnotes.xml")
# A DOCX is a ZIP; refuse bombs before reading parts into memory.
MAX_PART = 512 * 1024 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass
class Package:
    """A Word document's ZIP entries, with the XML parts we read parsed."""

    path: Path
    entries: dict[str, bytes]

    def xml(self, name: str) -> etree._Element | None:
        data = self.entries.get(name)
        if data is None:
            return None
        try:
            return etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise DsrError(f"not a readable DOCX: {name} is malformed XML ({exc})", path=self.path) from None

    def put(self, name: str, root: etree._Element) -> None:
        self.entries[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in self.entries.items():
                z.writestr(name, data)
        return out.getvalue()


def open_docx(path: Path) -> Package:
    """Read a DOCX; anything else (another file, a damaged ZIP) is an error naming the file."""
    if not path.is_file():
        raise DsrError(f"no such file: {path}", path=None)
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if sum(i.file_size for i in infos) > MAX_PART:
                raise DsrError("not imported: the DOCX unpacks to more than 512 MiB", path=path)
            entries = {i.filename: z.read(i) for i in infos if not i.is_dir()}
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise DsrError(f"not a DOCX file (it is not a ZIP package: {exc})", path=path) from None
    if DOCUMENT not in entries:
        raise DsrError(f"not a DOCX file (the package has no {DOCUMENT})", path=path)
    return Package(path, entries)
