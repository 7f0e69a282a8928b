"""Untrusted all the way down: paths in the front matter, special files, resource limits, faults of the machine.

Every build here runs the real command line in a child process with a time limit, and those
given special files also with a memory limit (RLIMIT_AS), so a read that never ends fails the
test instead of the machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from helpers import ONE_BOOK, ROOT, pdf_text

from dsr_export.errors import DsrError
from dsr_export.sandbox import author_path

MEMORY = 1024 * 1024 * 1024  # 1 GiB of address space: ample for `check` and HTML builds, far less than /dev/zero
TIME = 120  # seconds: only a hang comes near it
MARK = "OUTSIDE-SECRET"
CSL = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0" default-locale="en-GB">
  <info><title>Secret</title><id>secret</id><updated>2020-01-01T00:00:00+00:00</updated></info>
  <citation><layout><text value="{mark}-CSL"/></layout></citation>
  <bibliography><layout><text variable="title"/></layout></bibliography>
</style>
"""


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str


def limits(memory: bool = False, fsize: int | None = None):  # type: ignore[no-untyped-def]
    """A preexec_fn: the child gets a memory limit and a file size limit, when asked."""
    def apply() -> None:
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    return apply


def dsr(*args: str, cwd: Path, memory: bool = False, fsize: int | None = None,
        env: dict[str, str] | None = None) -> Run:
    """The real command line in a child under the time limit (and the memory and file size limits, if asked)."""
    proc = subprocess.run(
        [sys.executable, "-m", "dsr_export", *args],
        capture_output=True, text=True, cwd=cwd, timeout=TIME, preexec_fn=limits(memory, fsize), check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_refused(run: Run, status: int, message: str) -> None:
    """Failed with `status`, one line saying `message`, no traceback, no internal error."""
    assert run.status == status, (run.status, run.stderr)
    assert message in run.stderr, run.stderr
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert MARK not in run.stdout + run.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """book/ holds the source and its bibliography; outside/ (its sibling) holds secrets."""
    book, outside = tmp_path / "book", tmp_path / "outside"
    book.mkdir()
    outside.mkdir()
    (book / "refs.yaml").write_text(ONE_BOOK)
    (outside / "secret.yaml").write_text(ONE_BOOK.replace("A Book", f"{MARK}-TITLE"))
    (outside / "secret.csl").write_text(CSL.format(mark=MARK))
    theme = (ROOT / "styles" / "default.toml").read_text().replace('text = "#1b1b1b"', 'text = "#0badc0"')
    (outside / "secret.toml").write_text(theme)
    (outside / "secret.json").write_text('{"default": {"container-title": {"A": "B"}}}')
    return book


def write(book: Path, front: str, body: str = "Text [@smith2020].", bibliography: bool = True) -> Path:
    source = book / "paper.md"
    bib = "bibliography: refs.yaml\n" if bibliography else ""
    source.write_text(f"---\ntitle: Paper\n{bib}{front}\n---\n\n{body}\n")
    return source


FLAGS = {"bibliography": "--bibliography", "csl": "--csl", "theme": "--theme", "citation-abbreviations": None}
FILES = {"bibliography": "secret.yaml", "csl": "secret.csl", "theme": "secret.toml",
         "citation-abbreviations": "secret.json"}


def source_with(book: Path, key: str, value: str) -> Path:
    """A source whose front matter `key` is `value` (and whose bibliography is refs.yaml unless that is the key)."""
    return write(book, f"{key}: {value}", bibliography=key != "bibliography")


# --- one rule for every path the front matter names --------------------------------------------


@pytest.mark.parametrize("key", list(FILES))
@pytest.mark.parametrize("way", ["relative", "absolute", "symlink"])
def test_a_front_matter_path_outside_the_folder_is_refused(project: Path, key: str, way: str) -> None:
    secret = project.parent / "outside" / FILES[key]
    if way == "relative":
        value = f"../outside/{FILES[key]}"
    elif way == "absolute":
        value = str(secret)
    else:
        (project / f"link{secret.suffix}").symlink_to(secret)
        value = f"link{secret.suffix}"
    source = source_with(project, key, value)
    line = source.read_text().splitlines().index(f"{key}: {value}") + 1
    run = dsr("build", str(source), "--to", "html", "--out", "out", cwd=project)
    fix = f"use --root or pass it with {FLAGS[key]}" if FLAGS[key] else "use --root"
    assert_refused(run, 1, f"paper.md:{line}: '{key}' points outside the source folder ({value}); {fix}")
    assert not (project / "out").exists()


@pytest.mark.parametrize("key", list(FILES))
def test_root_lets_the_front_matter_name_a_file_in_a_parent_folder(project: Path, key: str) -> None:
    source = source_with(project, key, f"../outside/{FILES[key]}")
    run = dsr("build", str(source), "--to", "html", "--out", "out", "--root", "..", cwd=project)
    assert run.status == 0, run.stderr
    page = (project / "out" / "paper.html").read_text()
    shown = {"bibliography": f"{MARK}-TITLE", "csl": f"{MARK}-CSL", "theme": "#0badc0"}
    if key in shown:  # the file really was read: so the refusals above are what kept it out
        assert shown[key] in page


@pytest.mark.parametrize("way", ["relative", "symlink", "root"])
def test_the_output_profile_follows_the_same_rule(project: Path, way: str) -> None:
    """PDF/X's `output-profile` (an ICC file, read while the PDF is written) is held to the root too."""
    from dsr_export.writers.pdf_x import DEFAULT_PROFILE

    icc = project.parent / "outside" / "print.icc"
    data = bytearray(DEFAULT_PROFILE.read_bytes())
    data[80:84] = b"TEST"  # the header's creator field: another file than the default, as usable
    icc.write_bytes(bytes(data))
    value = "../outside/print.icc"
    if way == "symlink":
        (project / "print.icc").symlink_to(project.parent / "outside" / "print.icc")
        value = "print.icc"
    source = source_with(project, "output-profile", value)
    root = ("--root", "..") if way == "root" else ()
    run = dsr("build", str(source), "--to", "pdf", "--pdf-variant", "pdf/x-4", "--out", "out", *root, cwd=project)
    if way == "root":
        assert run.status == 0, run.stderr
        with pikepdf.open(project / "out" / "paper.pdf") as pdf:
            assert pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes() == icc.read_bytes()
    else:
        line = source.read_text().splitlines().index(f"output-profile: {value}") + 1
        assert_refused(run, 1, f"paper.md:{line}: 'output-profile' points outside the source folder ({value}); "
                               "use --root")
        assert not (project / "out").exists()


@pytest.mark.parametrize(("chapter", "message"), [
    ("../outside/secret.md", "'chapters' points outside the source folder (../outside/secret.md)"),
    ("pipe.md", "'chapters' names a file that cannot be read (pipe.md): it is a FIFO (named pipe)"),
])
def test_a_books_chapters_follow_the_same_rule(project: Path, chapter: str, message: str) -> None:
    (project.parent / "outside" / "secret.md").write_text(f"# {MARK}\n\nText.\n")
    os.mkfifo(project / "pipe.md")
    (project / "one.md").write_text("# One\n\nText [@smith2020].\n")
    master = project / "book.md"
    master.write_text(f"---\ntitle: Book\nbibliography: refs.yaml\nchapters:\n  - one.md\n  - {chapter}\n---\n")
    run = dsr("build", str(master), "--to", "html", "--out", "out", cwd=project, memory=True)
    assert_refused(run, 1, f"book.md:6: {message}")
    assert not (project / "out").exists()


def test_command_line_paths_are_the_users_own(project: Path) -> None:
    source = write(project, "")
    run = dsr("build", str(source), "--to", "html", "--out", "out", "--bibliography", "../outside/secret.yaml",
              "--csl", "../outside/secret.csl", "--theme", "../outside/secret.toml", cwd=project)
    assert run.status == 0, run.stderr
    page = (project / "out" / "paper.html").read_text()
    assert f"{MARK}-TITLE" in page and f"{MARK}-CSL" in page and "#0badc0" in page


def test_no_text_from_outside_reaches_any_output(project: Path) -> None:
    """Front matter pointing outside, overridden on the command line: pandoc must not read its own copy."""
    source = write(project, "csl: ../outside/secret.csl\ntheme: ../outside/secret.toml")
    source.write_text(source.read_text().replace("bibliography: refs.yaml", "bibliography: ../outside/secret.yaml"))
    out = project / "out"
    run = dsr("build", str(source), "--out", str(out), "--bibliography", "refs.yaml", "--csl", "apa",
              "--theme", "default", cwd=project)
    assert run.status == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"paper.{s}" for s in ("docx", "epub", "html", "pdf")]
    for path in out.iterdir():
        data = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                data += [z.read(n) for n in z.namelist()]
        assert not any(MARK.encode() in d or b"0badc0" in d for d in data), path.name
    text = pdf_text(out / "paper.pdf")
    assert "A Book" in text and MARK not in text


@pytest.mark.parametrize("key", list(FILES))
@pytest.mark.parametrize("value", ["x" * 5000, "x" * 5000 + ".csl", '"a\\0b.yaml"', "'%2e%2e/x.yaml'", "[a, b]"])
def test_odd_values_are_input_errors(project: Path, key: str, value: str) -> None:
    """A name too long for the file system, a NUL byte, percent signs, a list: one line, exit 1."""
    source = source_with(project, key, value)
    run = dsr("build", str(source), "--to", "html", "--out", "out", cwd=project)
    assert_refused(run, 1, "")
    assert len(run.stderr.strip().splitlines()) == 1 and "pandoc" not in run.stderr, run.stderr
    assert not (project / "out").exists()


@pytest.mark.parametrize(("value", "allowed"), [
    ("refs.yaml", True),
    ("sub/../refs.yaml", True),
    ("inner.yaml", True),  # a symlink that stays inside
    ("../outside/secret.yaml", False),
    ("sub/../../outside/secret.yaml", False),
    ("/etc/passwd", False),
    ("~/secret.yaml", False),
    ("link.yaml", False),  # a symlink that leaves
])
def test_author_path_policy(project: Path, value: str, allowed: bool) -> None:
    (project / "sub").mkdir()
    (project / "inner.yaml").symlink_to(project / "refs.yaml")
    (project / "link.yaml").symlink_to(project.parent / "outside" / "secret.yaml")
    source = project / "paper.md"
    if allowed:
        assert author_path(source, "bibliography", value, 3) == (project / "refs.yaml").resolve()
    else:
        with pytest.raises(DsrError, match="points outside the source folder") as info:
            author_path(source, "bibliography", value, 3)
        assert info.value.line == 3 and info.value.path == source
    assert author_path(source, "bibliography", "../outside/secret.yaml", 3, root=project.parent).name == "secret.yaml"


# --- only regular files, of bounded size -------------------------------------------------------


@pytest.mark.parametrize("special", ["fifo", "directory", "loop"])
@pytest.mark.parametrize("key", ["bibliography", "csl", "theme"])
def test_a_special_file_in_the_front_matter_is_refused_by_name(project: Path, key: str, special: str) -> None:
    name = {"bibliography": "x.yaml", "csl": "x.csl", "theme": "x.toml"}[key]
    if special == "fifo":
        os.mkfifo(project / name)
        what = "it is a FIFO (named pipe), not a regular file"
    elif special == "directory":
        (project / name).mkdir()
        what = "it is a directory, not a regular file"
    else:
        (project / name).symlink_to(name)
        what = "symlink loop"
    source = source_with(project, key, name)
    run = dsr("build", str(source), "--to", "html", "--out", "out", cwd=project, memory=True)
    assert_refused(run, 1, f"'{key}'")
    assert what in run.stderr and name in run.stderr, run.stderr
    assert not (project / "out").exists()


@pytest.mark.parametrize(("args", "message"), [
    (("check", "paper.md", "--bibliography", "/dev/zero"), "/dev/zero: the bibliography is a character device"),
    (("check", "paper.md", "--csl", "/dev/zero"), "cannot read the CSL style /dev/zero: it is a character device"),
    (("build", "paper.md", "--to", "html", "--out", "out", "--theme", "/dev/zero"),
     "/dev/zero: the theme is a character device"),
    (("check", "/dev/zero"), "/dev/zero: the source is a character device, not a regular file"),
    (("check", "bib.md", "--root", "/"),
     "'bibliography' names a file that cannot be read (/dev/zero): it is a character device"),
    (("check", "paper.md", "--bibliography", "fifo.yaml"), "fifo.yaml: the bibliography is a FIFO (named pipe)"),
    (("check", "fifo.md"), "fifo.md: the source is a FIFO (named pipe), not a regular file"),
    (("check", "."), ": the source is a directory, not a regular file"),
    (("check", "paper.md", "--bibliography", "."), ": the bibliography is a directory, not a regular file"),
    (("check", "paper.md", "--bibliography", "loop.yaml"),
     "loop.yaml: cannot read the bibliography: it is a symlink loop"),
])
def test_devices_fifos_and_directories_fail_at_once(project: Path, args: tuple[str, ...], message: str) -> None:
    write(project, "")
    (project / "bib.md").write_text("---\nbibliography: /dev/zero\n---\n\nText.\n")
    os.mkfifo(project / "fifo.yaml")
    os.mkfifo(project / "fifo.md")
    (project / "loop.yaml").symlink_to("loop.yaml")
    run = dsr(*args, cwd=project, memory=True)
    status = 2 if args[1] in ("/dev/zero", "fifo.md", ".") else 1  # a source that is no file is a bad argument
    assert_refused(run, status, message)
    assert not (project / "out").exists()


def test_files_over_the_size_limit_are_refused_before_reading(project: Path) -> None:
    source = write(project, "")
    big = project / "refs.yaml"
    with big.open("a") as handle:  # a valid bibliography, padded with a YAML comment
        handle.write("#" + "x" * (3 * 1024 * 1024) + "\n")
    run = dsr("check", str(source), cwd=project, memory=True, env={"DSR_EXPORT_MAX_TEXT_MB": "2"})
    assert_refused(run, 1, "(refs.yaml): it is 3 MiB, over the limit of 2 MiB (DSR_EXPORT_MAX_TEXT_MB raises it)")
    run = dsr("check", str(source), "--bibliography", "refs.yaml", cwd=project, env={"DSR_EXPORT_MAX_TEXT_MB": "2"})
    assert_refused(run, 1, "refs.yaml: the bibliography is 3 MiB, over the limit of 2 MiB (DSR_EXPORT_MAX_TEXT_MB")
    run = dsr("check", str(source), cwd=project, env={"DSR_EXPORT_MAX_TEXT_MB": "4"})
    assert run.status == 0, run.stderr
    (project / "big.png").write_bytes(b"\x89PNG" + bytes(2 * 1024 * 1024))
    source = write(project, "", "Text [@smith2020].\n\n![Big](big.png)")
    run = dsr("check", str(source), cwd=project, env={"DSR_EXPORT_MAX_IMAGE_MB": "1"})
    assert_refused(run, 1, "paper.md:9: image cannot be read: big.png: it is 2 MiB, over the limit of 1 MiB "
                           "(DSR_EXPORT_MAX_IMAGE_MB raises it)")


def test_an_image_that_is_a_symlink_loop_or_a_fifo_is_a_clear_error(project: Path) -> None:
    (project / "loop.png").symlink_to("loop.png")
    os.mkfifo(project / "pipe.png")
    source = write(project, "", "Text [@smith2020].\n\n![A loop](loop.png)\n\n![A pipe](pipe.png)")
    run = dsr("build", str(source), "--to", "html,epub", "--out", "out", cwd=project, memory=True)
    assert_refused(run, 1, "paper.md:9: image cannot be read: loop.png: it is a symlink loop")
    assert "paper.md:11: image cannot be read: pipe.png: it is a FIFO (named pipe)" in run.stderr
    assert not (project / "out").exists()


# --- faults of the machine ---------------------------------------------------------------------


def earlier_outputs(project: Path, out: Path, formats: str = "docx,html") -> dict[str, bytes]:
    """A good build of an earlier text: what a failed build must leave exactly as it is."""
    source = write(project, "", "An earlier text [@smith2020].")
    run = dsr("build", str(source), "--to", formats, "--out", str(out), cwd=project)
    assert run.status == 0, run.stderr
    write(project, "", "A later text [@smith2020].")
    return {p.name: p.read_bytes() for p in out.iterdir()}


def between(before: dict[str, bytes]) -> int:
    """A size the DOCX (written first) is under and the HTML (fonts and all) is over."""
    small, large = len(before["paper.docx"]), len(before["paper.html"])
    assert small < large
    return (small + large) // 2


def assert_untouched(out: Path, before: dict[str, bytes]) -> None:
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # and no temporary file beside them


def test_out_that_is_a_file_or_under_a_file_is_a_usage_error(project: Path) -> None:
    source = write(project, "")
    (project / "taken").write_text("mine\n")
    run = dsr("build", str(source), "--to", "html", "--out", "taken", cwd=project)
    assert_refused(run, 2, "dsr-export: --out taken: it is a file, not a folder")
    run = dsr("build", str(source), "--to", "html", "--out", "taken/sub", cwd=project)
    assert_refused(run, 2, f"dsr-export: --out taken/sub: {project / 'taken'} is a file, not a folder")
    assert (project / "taken").read_text() == "mine\n"


def test_out_that_cannot_be_created_names_the_folder(project: Path) -> None:
    source = write(project, "")
    run = dsr("build", str(source), "--to", "html", "--out", "/proc/no-such/out", cwd=project)
    assert_refused(run, 1, "cannot create the output folder: No such file or directory")
    assert "/proc/no-such" in run.stderr


def test_an_output_whose_place_is_taken_by_a_directory_changes_nothing(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = earlier_outputs(project, out)
    (out / "paper.html").unlink()
    (out / "paper.html").mkdir()
    run = dsr("build", str(project / "paper.md"), "--to", "docx,html", "--out", str(out), cwd=project)
    assert_refused(run, 1, f"{out / 'paper.html'}: cannot write the output: a directory is in its place")
    assert (out / "paper.docx").read_bytes() == before["paper.docx"]
    assert sorted(p.name for p in out.iterdir()) == ["paper.docx", "paper.html"]


def test_an_output_that_is_a_symlink_loop_is_replaced_by_the_file(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "paper.html").symlink_to("paper.html")
    run = dsr("build", str(write(project, "")), "--to", "html", "--out", str(out), cwd=project)
    assert run.status == 0, run.stderr
    assert not (out / "paper.html").is_symlink() and "A Book" in (out / "paper.html").read_text()


def test_a_file_size_limit_during_the_write_leaves_earlier_outputs(project: Path, tmp_path: Path) -> None:
    """RLIMIT_FSIZE: the DOCX (the smaller) is written in full, the HTML (the larger) hits EFBIG."""
    out = tmp_path / "out"
    before = earlier_outputs(project, out)
    limit = between(before)
    run = dsr("build", str(project / "paper.md"), "--to", "docx,html", "--out", str(out), cwd=project,
              fsize=limit)
    assert_refused(run, 1, f"{out / 'paper.html'}: cannot write the output: File too large")
    assert_untouched(out, before)


def unshare() -> tuple[str, ...]:
    """A command prefix that gives the child its own mount namespace (and root in it), or skip."""
    prefix = ("unshare", "--mount") if os.geteuid() == 0 else ("unshare", "--mount", "--map-root-user")
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip("this machine lets no test mount a file system (unshare --mount failed)")
    return prefix


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_full_or_read_only_disk_leaves_earlier_outputs(project: Path, tmp_path: Path, fault: str) -> None:
    """A small tmpfs mounted over the output folder: ENOSPC while writing the HTML, or EROFS before any work."""
    out, seen = tmp_path / "out", tmp_path / "seen"
    before = earlier_outputs(project, out)
    room = sum(len(b) for b in before.values()) + between(before)  # the DOCX fits, the HTML does not
    # In a mount namespace of its own: a tmpfs over the folder, the earlier outputs copied in,
    # the build, and a copy of what the build left for the test to look at.
    script = f"""
        mount -t tmpfs -o size={room} tmpfs "{out}" && cp -a "{seen}"/. "{out}"/ || exit 99
        {f'mount -o remount,ro "{out}" || exit 99' if fault == "read-only" else ""}
        "{sys.executable}" -m dsr_export build paper.md --to docx,html --out "{out}"
        status=$?
        rm -rf "{seen}" && cp -a "{out}" "{seen}"
        exit $status
    """
    shutil.copytree(out, seen)
    proc = subprocess.run([*unshare(), "sh", "-c", script], capture_output=True, text=True, cwd=project,
                          timeout=TIME, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, check=False)
    run = Run(proc.returncode, proc.stdout, proc.stderr)
    if fault == "full":
        assert_refused(run, 1, f"{out / 'paper.html'}: cannot write the output: No space left on device")
    else:
        assert_refused(run, 1, f"{out}: cannot write in the output folder: Read-only file system")
    assert_untouched(seen, before)


def test_an_unreadable_source_or_bibliography_names_it(project: Path) -> None:
    """/proc/self/mem is a regular file whose first byte cannot be read (EIO), even by root."""
    source = write(project, "")
    run = dsr("check", "/proc/self/mem", cwd=project)
    assert_refused(run, 1, "/proc/self/mem: cannot read the source: Input/output error")
    run = dsr("check", str(source), "--bibliography", "/proc/self/mem", cwd=project)
    assert_refused(run, 1, "/mem: cannot read the bibliography: Input/output error")
    if os.geteuid() != 0:  # permissions stop everyone but root
        (project / "refs.yaml").chmod(0)
        run = dsr("check", str(source), cwd=project)
        assert_refused(run, 1, "refs.yaml: cannot read the bibliography: Permission denied")
