"""Live preview: serve one source's outputs, rebuild them on every save, push each build to the browser."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from pathlib import Path

from ..config import Options
from ..errors import EXIT_CONTENT, DsrError, UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
INTERRUPTED = 130


def run(sources: list[Path], options: Options, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Serve the preview until Ctrl-C or SIGTERM (exit status 130); problems in the source never stop it."""
    import uvicorn

    from .. import cache
    from .app import LOOPBACK, Hub, create
    from .builder import Builder
    from .watch import Watcher

    if len(sources) != 1:
        raise UsageError("preview takes one source file")
    source = sources[0]
    if not source.is_file():
        raise UsageError(f"no such source file: {source}")
    listener = _listen(host, port)
    where = f"[{host}]" if ":" in host else host
    url = f"http://{where}:{listener.getsockname()[1]}/"
    if host not in LOOPBACK:
        print(f"dsr-export: warning: --host {host}: the preview is visible to the network; anyone who can reach "
              f"this machine can read the outputs", file=sys.stderr, flush=True)

    hub = Hub()
    builder = Builder(source, options, hub.publish)  # starts the worker processes: stopped below, always
    watcher: Watcher | None = None
    server: uvicorn.Server | None = None
    serving: threading.Thread | None = None
    interrupted = False
    try:
        try:
            inputs = cache.inputs(source, options)
        except DsrError:
            inputs = builder.inputs  # the first build shows the problem; the source is watched meanwhile
        watcher = Watcher(inputs, builder.changed)
        builder.on_inputs = watcher.update
        config = uvicorn.Config(create(builder, hub, host), log_level="warning", lifespan="off",
                                access_log=False, timeout_graceful_shutdown=1)
        server = uvicorn.Server(config)
        # The server has a thread of its own, so Ctrl-C and SIGTERM reach this one and stop everything in order.
        serving = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="preview server",
                                   daemon=True)
        watcher.start()
        builder.start()
        serving.start()
        print(f"preview: {url} ({source}; Ctrl-C stops)", flush=True)
        serving.join()
        print("dsr-export: the preview server stopped unexpectedly", file=sys.stderr)
        return EXIT_CONTENT
    except KeyboardInterrupt:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the cleanup short
            signal.signal(signum, signal.SIG_IGN)
        interrupted = True
        _leave_after(CLEANUP_LIMIT_S)
        return INTERRUPTED
    finally:
        builder.stop()  # first: a pandoc run that Ctrl-C ended is then no error to report
        hub.publish(None)  # ends the browsers' event streams, so the server can close at once
        if server is not None:
            server.should_exit = True
        if watcher is not None:
            watcher.stop()
        if serving is not None and serving.is_alive():
            serving.join(timeout=3)
        listener.close()
        if interrupted:
            print("preview: stopped; every output in place is complete", flush=True)


# Ctrl-C must stop the preview: a cleanup that hangs (it has been seen, rarely, and not yet
# explained) ends the process after this long, with the status an interrupt gives.
CLEANUP_LIMIT_S = 20


def _leave_after(seconds: float) -> None:
    def leave() -> None:
        print(f"dsr-export: the preview's cleanup took over {seconds:.0f} s; stopping now", file=sys.stderr,
              flush=True)
        os._exit(INTERRUPTED)

    timer = threading.Timer(seconds, leave)
    timer.daemon = True
    timer.start()


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port); one that cannot be had is a usage error."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=64)
    except OSError as exc:
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
