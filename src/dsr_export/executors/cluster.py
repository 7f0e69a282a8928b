"""Builds on a Dask cluster: one task per source, outputs written here, records kept here.

`tcp://HOST:8786` connects to a running scheduler; `local:N` starts a cluster of N worker
processes on 127.0.0.1 for one run. Sources whose outputs are up to date are not sent.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .. import cache, inputs
from ..build import Outcome, Result, target, write_atomic
from ..config import Options
from ..errors import DsrError, UsageError
from . import TaskResult
from .bundle import pack
from .worker import differences, error_diagnostics, identity, run_task

CONNECT_TIMEOUT_S = 10
# A task whose worker dies is sent to another one; past this many lost workers it fails.
ALLOWED_FAILURES = 3


class TaskError(DsrError):
    """A source the cluster could not build: the worker's own message, with its diagnostics."""

    def __init__(self, task: TaskResult) -> None:
        super().__init__(task.error_text)
        self.diagnostics = list(task.error)
        self.exit_status = task.exit_status or 1

    def format(self) -> str:
        return self.message


def build_on_cluster(
    paths: list[Path], options: Options, address: str, on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Build every source on the cluster at `address`; outcomes in source order."""
    with _client(address) as client:
        mine = identity()
        workers = _matching_workers(client, mine)
        outcomes: dict[int, Outcome] = {}
        futures: dict[Any, tuple[int, Path, dict[str, str], tuple[str, ...]]] = {}
        try:
            for index, path in enumerate(paths):
                started = time.perf_counter()
                try:
                    keys, stale, result = _plan(path, options)
                    if not stale:
                        outcomes[index] = _finish(on_done, Outcome(path, result, None, time.perf_counter() - started))
                        continue
                    bundle = pack(path, options, stale)
                except DsrError as exc:
                    outcomes[index] = _finish(on_done, Outcome(path, None, exc, time.perf_counter() - started))
                    continue
                future = client.submit(run_task, bundle, mine, key=f"dsr-export-{index}-{path.stem}",
                                       pure=False, workers=workers, allow_other_workers=False)
                futures[future] = (index, path, keys, stale)
            from distributed import as_completed

            for future in as_completed(list(futures)):
                index, path, keys, stale = futures[future]
                outcomes[index] = _finish(on_done, _collect(future, path, options, keys, stale))
        except BaseException:
            client.cancel(list(futures), force=True)
            raise
    return [outcomes[i] for i in range(len(paths))]


def _finish(on_done: Callable[[Outcome], None] | None, outcome: Outcome) -> Outcome:
    if on_done is not None:
        on_done(outcome)
    return outcome


def _plan(path: Path, options: Options) -> tuple[dict[str, str], tuple[str, ...], Result]:
    """The keys of each format, the formats to rebuild, and the result if none needs it."""
    keys = cache.keys(inputs.gather(path, options), options.formats)
    records = {fmt: None if options.force else cache.fresh(target(options, path.stem, fmt), keys[fmt])
               for fmt in options.formats}
    stale = tuple(fmt for fmt, record in records.items() if record is None)
    warnings = tuple(dict.fromkeys(w for r in records.values() if r for w in r.warnings))
    return keys, stale, Result(tuple(target(options, path.stem, f) for f in options.formats), warnings)


def _collect(future: Any, path: Path, options: Options, keys: dict[str, str],
             stale: tuple[str, ...]) -> Outcome:
    """Write a finished task's outputs into place and record them, as a local build does."""
    try:
        task: TaskResult = future.result()
    except Exception as exc:  # noqa: BLE001  # the cluster lost the task (KilledWorker) or could not run it
        reason = f"{type(exc).__name__}: {exc}".strip()
        return Outcome(path, None, DsrError(f"the cluster could not build this source ({reason})", path=path))
    if task.failed:
        return Outcome(path, None, TaskError(task), task.seconds)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in stale:
        out = target(options, path.stem, fmt)
        cache.forget(out)
        write_atomic(out, task.outputs[fmt])
        cache.save(out, keys[fmt], task.outputs[fmt], task.warnings)
    outputs = tuple(target(options, path.stem, f) for f in options.formats)
    return Outcome(path, Result(outputs, task.warnings, stale), None, task.seconds)


@contextlib.contextmanager
def _client(address: str) -> Iterator[Any]:
    """A Dask client on `address`, or on a local cluster started for this run (`local:N`)."""
    import dask
    from distributed import Client, LocalCluster

    dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES})
    if address.startswith("local:"):
        count = address.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise UsageError(f"--scheduler local:N needs a number of workers, not '{address}'")
        with LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as local, Client(local) as client:
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise DsrError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        yield client
    finally:
        client.close()


def _matching_workers(client: Any, mine: dict[str, str]) -> list[str]:
    """The workers whose versions are the client's; the others are refused by name."""
    found = client.run(identity)
    if not found:
        raise DsrError("the Dask cluster has no workers")
    refused = {w: differences(mine, theirs) for w, theirs in found.items() if differences(mine, theirs)}
    matching = [w for w in found if w not in refused]
    if refused:
        names = "; ".join(f"{w}: {', '.join(gaps)}" for w, gaps in refused.items())
        message = f"refused {len(refused)} Dask worker(s) whose versions differ from this client's: {names}"
        if not matching:
            raise DsrError(message + "; install the same dsr-export and engines on the workers")
        import sys

        print(f"dsr-export: warning: {message}", file=sys.stderr)
    return matching


__all__ = ["build_on_cluster", "error_diagnostics"]
