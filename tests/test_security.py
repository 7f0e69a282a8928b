"""Untrusted sources: nothing outside the source folder and nothing from the network reaches an output."""

from __future__ import annotations

import base64
import contextlib
import io
import shutil
import socket
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from helpers import ROOT, pdf_text

from dsr_export import cli
from dsr_export.sandbox import DATA_URL_LIMIT, for_paths

CORPUS = ROOT / "tests" / "security"
MARKERS = (b"OUTSIDE-SECRET", b"root:x:0:0")


def png(width: int, height: int, comment: bytes = b"") -> bytes:
    """A small RGB PNG; `comment` goes into a tEXt chunk, so copying the file copies it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x80\xc0" * width for _ in range(height))
    text = chunk(b"tEXt", b"Comment\x00" + comment) if comment else b""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass
class Corpus:
    project: Path
    leak: Path
    out: Path
    status: int
    stderr: str
    opened: list[str]
    connections: list[object]
    pandoc_runs: list[list[str]]


def make_project(root: Path) -> tuple[Path, Path]:
    """The corpus copied to root/a/project, with secrets in root/leak (two folders up)."""
    leak, project = root / "leak", root / "a" / "project"
    leak.mkdir(parents=True)
    shutil.copytree(CORPUS, project)
    for path in project.iterdir():
        if path.suffix in (".md", ".svg"):
            path.write_text(path.read_text().replace("@OUTSIDE@", str(leak)))
    (leak / "secret.txt").write_text("OUTSIDE-SECRET-TEXT\n")
    (leak / "secret.css").write_text("body::before { content: 'OUTSIDE-SECRET-CSS' }\n")
    (leak / "secret.png").write_bytes(png(7, 13, b"OUTSIDE-SECRET-PNG"))
    (project / "inside.png").write_bytes(png(4, 4))
    (project / "linked.png").symlink_to(leak / "secret.png")
    return project, leak


_AUDIT: list[tuple[str, tuple]] = []
_AUDITING = [False]


def _audit(event: str, args: tuple) -> None:
    if _AUDITING[0] and event in ("open", "subprocess.Popen"):
        _AUDIT.append((event, args))


@contextlib.contextmanager
def instrumented(monkeypatch: pytest.MonkeyPatch, connections: list[object]):
    """Record every file this process opens and every connection it tries (and refuse the connection)."""
    def refuse(*args: object, **kwargs: object) -> None:
        connections.append(args)
        raise OSError("network access attempted during a sandboxed build")

    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse(*a))
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, *a: refuse(*a))
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    _AUDIT.clear()
    _AUDITING[0] = True
    try:
        yield
    finally:
        _AUDITING[0] = False


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The hostile source built once, in every format, in this process (so every open is seen)."""
    sys.addaudithook(_audit)
    root = tmp_path_factory.mktemp("security")
    project, leak = make_project(root)
    out = root / "out"
    connections: list[object] = []
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, instrumented(mp, connections), contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(["build", str(project / "hostile.md"), "--out", str(out)])
    opened = [str(args[0]) for event, args in _AUDIT if event == "open" and isinstance(args[0], (str, bytes, Path))]
    runs = [[str(a) for a in args[1]] for event, args in _AUDIT if event == "subprocess.Popen"]
    return Corpus(project, leak, out, status, err.getvalue(), opened, connections, runs)


def all_bytes(path: Path) -> list[bytes]:
    """The file, and for a ZIP every member, and for a PDF every decoded stream."""
    data = path.read_bytes()
    parts = [data]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            parts += [z.read(name) for name in z.namelist()]
    if path.suffix == ".pdf":
        with pikepdf.open(path) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    with contextlib.suppress(pikepdf.PdfError, NotImplementedError):
                        parts.append(obj.read_bytes())
    return parts


def test_the_hostile_source_builds_with_warnings(corpus: Corpus) -> None:
    assert corpus.status == 0, corpus.stderr
    assert "Traceback" not in corpus.stderr and "internal error" not in corpus.stderr
    assert sorted(p.name for p in corpus.out.iterdir()) == [f"hostile.{s}" for s in ("docx", "epub", "html", "pdf")]


@pytest.mark.parametrize(("line", "url"), [
    (8, "file:///etc/passwd"),
    (10, "../../leak/secret.png"),
    (14, "linked.png"),
    (16, "http://example.invalid/remote.png"),
    (22, "http://example.invalid/remote.css"),
    (28, "http://example.invalid/imported.css"),
    (32, "file:///etc/passwd"),
    (36, "/etc/passwd"),
])
def test_each_refusal_names_its_source_line(corpus: Corpus, line: int, url: str) -> None:
    expected = f"hostile.md:{line}: warning: refused to read {url}:"
    assert expected in corpus.stderr, corpus.stderr


@pytest.mark.parametrize("fmt", ["pdf", "epub", "docx", "html"])
def test_no_byte_of_an_outside_file_reaches_an_output(corpus: Corpus, fmt: str) -> None:
    path = corpus.out / f"hostile.{fmt}"
    secrets = [png(7, 13, b"OUTSIDE-SECRET-PNG"), Path("/etc/passwd").read_bytes()[:64]]
    encoded = [base64.b64encode(s)[:40] for s in secrets]
    for part in all_bytes(path):
        for needle in (*MARKERS, *secrets, *encoded):
            assert needle not in part, (fmt, needle[:40])
    if fmt == "pdf":
        text = pdf_text(path)
        assert "OUTSIDE-SECRET" not in text and "root:x" not in text


def test_the_allowed_picture_is_kept_and_only_it(corpus: Corpus) -> None:
    with pikepdf.open(corpus.out / "hostile.pdf") as pdf:
        found = [page.get_images() if hasattr(page, "get_images") else page.images for page in pdf.pages]
        sizes = {(int(im.Width), int(im.Height)) for images in found for im in images.values()}
    assert sizes == {(4, 4)}
    inside = base64.b64encode((corpus.project / "inside.png").read_bytes()).decode()
    assert inside in (corpus.out / "hostile.html").read_text()
    with zipfile.ZipFile(corpus.out / "hostile.docx") as z:
        media = [z.read(n) for n in z.namelist() if n.startswith("word/media/")]
    assert (corpus.project / "inside.png").read_bytes() in media
    assert all(b"OUTSIDE" not in m for m in media)


def test_no_file_outside_was_opened_and_no_connection_tried(corpus: Corpus) -> None:
    leaked = [p for p in corpus.opened if p.startswith(str(corpus.leak)) or p == "/etc/passwd"]
    assert leaked == []
    assert any(p.endswith("hostile.md") for p in corpus.opened)  # the instrument did record opens
    assert corpus.connections == []


def test_pandoc_writes_docx_in_its_sandbox(corpus: Corpus) -> None:
    docx_runs = [run for run in corpus.pandoc_runs if "docx" in run and "--to" in run]
    assert docx_runs and all("--sandbox" in run for run in docx_runs)


def test_the_svg_entity_is_never_expanded(corpus: Corpus) -> None:
    html = (corpus.out / "hostile.html").read_text()
    assert "OUTSIDE-SECRET-TEXT" not in html
    assert "SVG says OUTSIDE" not in pdf_text(corpus.out / "hostile.pdf")


def test_strict_turns_refusals_into_errors(tmp_path: Path) -> None:
    project, _ = make_project(tmp_path)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = cli.main(["check", str(project / "hostile.md"), "--strict"])
    assert status == 1
    assert err.getvalue().count("refused to read file:///etc/passwd") == 3  # three places, each listed once
    assert "warning:" not in err.getvalue().replace("warning: refused", "")


def test_allow_remote_lets_the_network_in_but_not_outside_files(tmp_path: Path) -> None:
    project, _ = make_project(tmp_path)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(["check", str(project / "hostile.md"), "--allow-remote"])
    assert status == 0
    assert "http://example.invalid" not in err.getvalue()
    assert "refused to read file:///etc/passwd" in err.getvalue()


def test_a_data_url_over_the_limit_is_refused(tmp_path: Path) -> None:
    payload = "A" * (DATA_URL_LIMIT + 10)
    (tmp_path / "big.md").write_text(f"# Big\n\n![big](data:image/png;base64,{payload})\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(["check", str(tmp_path / "big.md")])
    assert status == 0
    assert "big.md:3: warning: refused to read data:image/png;base64,AAA" in err.getvalue()
    assert "larger than" in err.getvalue()


@pytest.mark.parametrize(("url", "allowed"), [
    ("pic.png", True),
    ("sub/pic.png", True),
    ("#section", True),
    ("data:image/png;base64,AAAA", True),
    ("../pic.png", False),
    ("sub/../../pic.png", False),
    ("%2e%2e/%2e%2e/etc/passwd", False),
    ("file:///etc/passwd", False),
    ("file://otherhost/share/x.png", False),
    ("//example.invalid/x.png", False),
    ("https://example.invalid/x.png", False),
    ("ftp://example.invalid/x.png", False),
    ("javascript:alert(1)", False),
    ("C:/Windows/win.ini", False),
    ("pic\x00.png", False),
])
def test_sandbox_policy(tmp_path: Path, url: str, allowed: bool) -> None:
    (tmp_path / "sub").mkdir()
    assert for_paths(tmp_path).allows_url(url) is allowed


def test_a_symlink_that_stays_inside_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "real.png").write_bytes(png(1, 1))
    (tmp_path / "alias.png").symlink_to(tmp_path / "real.png")
    (tmp_path / "out.png").symlink_to("/etc/passwd")
    sandbox = for_paths(tmp_path)
    assert sandbox.allows_url("alias.png") and not sandbox.allows_url("out.png")
