"""Catalogue builds on a real Dask cluster on 127.0.0.1: same bytes as a local build, faults, reports."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from helpers import ONE_BOOK, ROOT, dsr

from dsr_export.report import SCHEMA

GOOD = """\
---
title: Paper {n}
author: Ann Author
bibliography: refs.yaml
---

Paragraph {n} cites @smith2020 [p. {n}], and goes on for a while about trade and roads.

# A Section

{filler}
"""
FILLER = "The caravan stopped at every well, and every well had its own story. " * 40
BAD = GOOD.replace("@smith2020", "@smith2021")
FORMATS = "html,docx,epub"


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Six sources, the fourth with an unresolved citation key."""
    folder = tmp_path_factory.mktemp("catalogue")
    (folder / "refs.yaml").write_text(ONE_BOOK)
    sources = []
    for n in range(1, 7):
        path = folder / f"title{n}.md"
        path.write_text((BAD if n == 4 else GOOD).format(n=n, filler="\n\n".join([FILLER] * 3)))
        sources.append(path)
    return sources


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and two worker processes (with nannies), on the loopback address only."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as local, Client(local) as client:
        yield local.scheduler_address, client


@pytest.fixture(scope="module")
def local_build(catalogue, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("local")
    run = dsr("build", *map(str, catalogue), "--to", FORMATS, "--out", str(out), "--jobs", "1", "--force", "-q")
    assert run.status == 1, run.stderr
    return {p.name: p.read_bytes() for p in out.iterdir()}


def good_names(catalogue: list[Path]) -> set[str]:
    return {f"{p.stem}.{fmt}" for p in catalogue if p.stem != "title4" for fmt in FORMATS.split(",")}


def test_a_cluster_build_equals_a_local_build(catalogue, cluster, local_build, tmp_path):
    address, _client = cluster
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    run = dsr("build", *map(str, catalogue), "--to", FORMATS, "--out", str(out), "--scheduler", address,
              "--report", str(report))
    assert run.status == 1, run.stderr  # the bad source fails alone
    assert f"{catalogue[3]}:7: citation key '@smith2021' is not in the bibliography" in run.stderr
    assert "Traceback" not in run.stderr
    built = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(built) == good_names(catalogue) == set(local_build)
    assert built == local_build
    lines = [line for line in run.stderr.splitlines() if line.startswith("[")]
    assert len(lines) == 6 and lines[-1].startswith("[6/6]")  # one progress line per source off a terminal
    data = json.loads(report.read_text())
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    assert data["executor"] == address and data["summary"] == {"sources": 6, "failed": 1, "warnings": 0}
    entries = {Path(e["source"]).name: e for e in data["sources"]}
    assert entries["title4.md"]["status"] == "failed"
    (error,) = entries["title4.md"]["errors"]
    assert error["code"] == "unresolved-citation" and error["line"] == 7
    assert error["file"] == str(catalogue[3])
    for output in entries["title1.md"]["outputs"]:
        assert output["sha256"] == hashlib.sha256(built[Path(output["path"]).name]).hexdigest()

    again = dsr("build", *map(str, catalogue), "--to", FORMATS, "--out", str(out), "--scheduler", address,
                "--report", str(report), "-q")
    assert again.status == 1 and again.stderr.count("[") == 1  # quiet: no progress, only the error
    statuses = [e["status"] for e in json.loads(report.read_text())["sources"]]
    assert statuses == ["up-to-date"] * 3 + ["failed"] + ["up-to-date"] * 2  # fresh sources were not sent


def test_a_worker_killed_mid_batch_loses_no_source(catalogue, cluster, local_build, tmp_path):
    address, client = cluster
    out = tmp_path / "out"
    env = {**os.environ}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dsr_export", "build", *map(str, catalogue), "--to", FORMATS, "--out", str(out),
         "--scheduler", address, "--force"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:  # wait until a worker is busy with a task
        busy = [w for w, tasks in client.processing().items() if tasks]
        if busy:
            victim = client.run(os.getpid, workers=[busy[0]])[busy[0]]
        else:
            time.sleep(0.05)
    assert victim is not None, "no task ever started"
    os.kill(victim, signal.SIGKILL)
    _stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    built = {p.name: p.read_bytes() for p in out.iterdir()}
    assert built == local_build
    client.wait_for_workers(2, timeout=60)  # the nanny brought it back


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_worker_with_other_versions_is_refused(catalogue, tmp_path):
    """A real worker process running a changed copy of dsr-export: the client refuses it."""
    other = tmp_path / "other"
    shutil.copytree(ROOT / "src" / "dsr_export", other / "dsr_export",
                    ignore=shutil.ignore_patterns("__pycache__"))
    init = other / "dsr_export" / "__init__.py"
    init.write_text(init.read_text() + "\n# another release\n")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--dashboard-address", ":0", "--no-show"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, "PYTHONPATH": str(other)}
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
            assert client.run(lambda: __import__("dsr_export").__file__).popitem()[1].startswith(str(other))
        out = tmp_path / "out"
        run = dsr("build", str(catalogue[0]), str(catalogue[1]), "--to", "html", "--out", str(out),
                  "--scheduler", address)
        assert run.status == 1
        assert "refused 1 Dask worker(s) whose versions differ from this client's" in run.stderr
        assert "dsr-export code" in run.stderr and "Traceback" not in run.stderr
        assert not out.exists()
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
            proc.wait(timeout=30)


def test_an_unreachable_scheduler_is_one_clear_error(catalogue, tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    run = dsr("build", str(catalogue[0]), str(catalogue[1]), "--out", str(tmp_path / "out"), "--scheduler", address)
    assert run.status == 1
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"dsr-export: cannot reach the Dask scheduler at {address}")
    assert not (tmp_path / "out").exists()


def test_the_scheduler_comes_from_the_environment(catalogue, tmp_path):
    run = dsr("build", str(catalogue[0]), str(catalogue[1]), "--out", str(tmp_path / "out"),
              env={"DSR_EXPORT_SCHEDULER": "local:x"})
    assert run.status == 2 and "--scheduler local:N needs a number of workers" in run.stderr


def test_ctrl_c_cancels_the_batch_and_leaves_no_partial_file(catalogue, cluster, tmp_path):
    address, client = cluster
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dsr_export", "build", *map(str, catalogue), "--to", FORMATS, "--out", str(out),
         "--scheduler", address, "--force"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted; earlier outputs are unchanged" in stderr
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")] if out.exists() else []
    assert leftovers == []
    deadline = time.monotonic() + 30
    while any(client.processing().values()) and time.monotonic() < deadline:  # the tasks were cancelled
        time.sleep(0.1)
    assert not any(client.processing().values())


def test_a_local_batch_reports_progress_and_a_report(catalogue, tmp_path):
    report = tmp_path / "r.json"
    run = dsr("build", *map(str, catalogue[:3]), "--to", "html", "--out", str(tmp_path / "out"), "--jobs", "2",
              "--report", str(report))
    assert run.status == 0, run.stderr
    progress = [line for line in run.stderr.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in progress] == ["[1/3", "[2/3", "[3/3"]
    assert all(": ok in " in line for line in progress)
    data = json.loads(report.read_text())
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    assert data["executor"] == "local:2" and [e["status"] for e in data["sources"]] == ["built"] * 3


def test_a_book_builds_on_the_cluster_as_it_does_here(cluster, tmp_path):
    """A book's chapter files travel with its master: the cluster's outputs are the local build's bytes."""
    address, _client = cluster
    master = ROOT / "tests" / "fixtures" / "book" / "book.md"
    local = dsr("build", str(master), "--to", "pdf,epub", "--out", str(tmp_path / "local"), "--force")
    assert local.status == 0, local.stderr
    remote = dsr("build", str(master), "--to", "pdf,epub", "--out", str(tmp_path / "remote"), "--force",
                 "--scheduler", address)
    assert remote.status == 0, remote.stderr
    for name in ("book.pdf", "book.epub"):
        assert (tmp_path / "remote" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
