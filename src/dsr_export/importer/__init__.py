"""An edited DOCX back into the Markdown source: `read` does the reading, `command` is `dsr-export import`."""
