"""dsr-export: one Markdown source with CSL citations published as PDF, EPUB 3, DOCX and HTML."""

__version__ = "0.1.0"
