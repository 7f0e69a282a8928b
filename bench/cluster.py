"""Benchmark: a catalogue of 16 titles built serially, with --jobs 2, and on a Dask cluster of 2 workers.

Writes its section of BENCHMARKS.md (between the cluster markers). Every run is cold
(--force) in a fresh process; scenarios alternate within each round; figures are medians.
Run with `make bench-cluster` (or `.venv/bin/python bench/cluster.py [--rounds N]`).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DSR = [str(Path(sys.executable).parent / "dsr-export")]
TITLES = 16
BEGIN, END = "<!-- cluster benchmark -->", "<!-- end of cluster benchmark -->"


def catalogue(folder: Path) -> list[Path]:
    """Sixteen titles: the essay under sixteen file names, beside its bibliography."""
    shutil.copytree(ROOT / "source", folder, dirs_exist_ok=True)
    essay = (folder / "digital-silk-road.md").read_text()
    sources = []
    for n in range(1, TITLES + 1):
        path = folder / f"title{n:02}.md"
        path.write_text(essay)
        sources.append(path)
    return sources


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def load() -> str:
    return subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    loads = [load()]
    with tempfile.TemporaryDirectory() as tmp, LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster, Client(cluster):
        sources = [str(p) for p in catalogue(Path(tmp) / "titles")]
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1609718400", "DSR_EXPORT_CACHE": str(Path(tmp) / "records")}
        base = [*DSR, "build", *sources, "--force", "-q"]
        scenarios = {
            "--jobs 1 (serial)": [*base, "--out", f"{tmp}/serial", "--jobs", "1"],
            "--jobs 2": [*base, "--out", f"{tmp}/jobs2", "--jobs", "2"],
            "Dask cluster, 2 workers (running)": [*base, "--out", f"{tmp}/dask", "--scheduler",
                                                  cluster.scheduler_address],
            "--scheduler local:2 (cluster started per run)": [*base, "--out", f"{tmp}/local2", "--scheduler",
                                                               "local:2"],
        }
        times: dict[str, list[float]] = {name: [] for name in scenarios}
        for _ in range(args.rounds):
            for name, command in scenarios.items():
                times[name].append(timed(command, env))
            loads.append(load())
        same = all(
            (Path(tmp) / "serial" / f.name).read_bytes() == f.read_bytes() for f in (Path(tmp) / "dask").iterdir()
        )
    medians = {name: statistics.median(t) for name, t in times.items()}
    serial, jobs2 = medians["--jobs 1 (serial)"], medians["--jobs 2"]
    dask = medians["Dask cluster, 2 workers (running)"]
    rows = "\n".join(
        f"| {name} | {m:.2f} | {min(times[name]):.2f} | {max(times[name]):.2f} | {TITLES / m * 60:.1f} |"
        for name, m in medians.items()
    )
    verdict = lambda ok: "met" if ok else "**missed**"
    section = f"""{BEGIN}
## Catalogue on a cluster

Produced by `bench/cluster.py --rounds {args.rounds}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}:
{os.cpu_count()} cores, Python {platform.python_version()}. {TITLES} titles (the essay under {TITLES} names),
every format, cold (`--force`); each run a fresh process; medians of {args.rounds} rounds. Outputs of the
cluster equal the serial build's bytes: {'yes' if same else 'NO'}.

Machine load (`uptime`) before and after each round:

    {chr(10).join('    ' + line for line in loads).strip()}

| scenario | median s | min s | max s | titles per minute |
|---|---:|---:|---:|---:|
{rows}

| target | measured | verdict |
|---|---:|---|
| cluster of 2 workers: at least 0.9 x the throughput of `--jobs 2` | {jobs2 / dask:.2f} x | {verdict(jobs2 / dask >= 0.9)} |
| cluster of 2 workers: at least 1.8 x the throughput of serial | {serial / dask:.2f} x | {verdict(serial / dask >= 1.8)} |

The running cluster is how a publisher would use one (workers started once, `dask worker` on each
machine); `local:2` adds starting a scheduler and two worker processes to every run.
{END}
"""
    bench = ROOT / "BENCHMARKS.md"
    text = bench.read_text() if bench.exists() else "# Benchmarks\n"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    bench.write_text(text)
    print(section)


if __name__ == "__main__":
    main()
