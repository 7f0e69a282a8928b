"""The preview's web app: its own page and assets, the build's outputs, and a stream of build states.

Every route looks its file up by exact name in a fixed table (the page's assets, the
build's output files, the entries of the EPUB), so no request can reach any other file.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from . import epub_view
from .builder import Builder

ASSETS = {"preview.js": "text/javascript", "preview.css": "text/css"}
# Outputs may carry an author's raw HTML: no script of theirs runs, and nothing is embedded from elsewhere.
OUTPUT_POLICY = "script-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
NO_STORE = {"Cache-Control": "no-store"}
KEEP_ALIVE_S = 15.0
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class Hub:
    """Hands each build state to every open event stream (from any thread)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str | None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def subscribe(self) -> asyncio.Queue[str | None]:
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self._queues.discard(queue)

    def publish(self, state: dict[str, Any] | None) -> None:
        """Send `state` to every stream; None ends them (the server is stopping)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        message = None if state is None else json.dumps(state)
        try:
            loop.call_soon_threadsafe(self._put, message)
        except RuntimeError:  # the loop closed meanwhile
            pass

    def _put(self, message: str | None) -> None:
        for queue in self._queues:
            queue.put_nowait(message)


def _asset(name: str) -> bytes:
    return resources.files(__package__).joinpath("assets", name).read_bytes()


def create(builder: Builder, hub: Hub, host: str) -> Starlette:
    """The app for one source's preview; bound to loopback, it answers only to loopback host names."""
    outputs = {builder.path(fmt).name: fmt for fmt in builder.formats}
    epub_cache: dict[str, Any] = {}

    async def index(request: Request) -> Response:
        return Response(_asset("index.html"), media_type="text/html; charset=utf-8", headers=NO_STORE)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return _not_found()
        return Response(_asset(name), media_type=ASSETS[name], headers=NO_STORE)

    async def status(request: Request) -> Response:
        return JSONResponse(builder.snapshot(), headers=NO_STORE)

    async def output(request: Request) -> Response:
        fmt = outputs.get(request.path_params["name"])
        path = builder.path(fmt) if fmt else None
        if path is None or not path.is_file():
            return _not_found()
        headers = {**NO_STORE, "Content-Security-Policy": OUTPUT_POLICY, "X-Content-Type-Options": "nosniff"}
        disposition = "attachment" if fmt == "docx" else "inline"
        return FileResponse(path, headers=headers, content_disposition_type=disposition,
                            filename=path.name if fmt == "docx" else None)

    async def epub(request: Request) -> Response:
        if "epub" not in builder.formats:
            return _not_found()
        path = builder.path("epub")
        try:
            stat = path.stat()
        except OSError:
            return _not_found()
        if epub_cache.get("stat") != (stat.st_size, stat.st_mtime_ns):
            epub_cache.update(stat=(stat.st_size, stat.st_mtime_ns), data=path.read_bytes())
        name = request.path_params["name"]
        data = epub_view.entry(epub_cache["data"], name)
        if data is None:
            return _not_found()
        kind = "application/xhtml+xml" if name.endswith(".xhtml") else mimetypes.guess_type(name)[0]
        headers = {**NO_STORE, "Content-Security-Policy": OUTPUT_POLICY, "X-Content-Type-Options": "nosniff"}
        return Response(data, media_type=kind or "application/octet-stream", headers=headers)

    async def events(request: Request) -> Response:
        queue = hub.subscribe()

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 500\n\n"
                yield f"data: {json.dumps(builder.snapshot())}\n\n"
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), KEEP_ALIVE_S)
                    except TimeoutError:
                        yield ": still here\n\n"  # keeps proxies and the browser from closing the stream
                        continue
                    if message is None:
                        return
                    yield f"data: {message}\n\n"
            finally:
                hub.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream", headers=NO_STORE)

    routes = [
        Route("/", index),
        Route("/assets/{name}", asset),
        Route("/status", status),
        Route("/events", events),
        Route("/out/{name}", output),
        Route("/epub/{name:path}", epub),
    ]
    middleware = []
    if host in LOOPBACK:  # a web page elsewhere cannot read the preview by pointing a name at 127.0.0.1
        names = ["127.0.0.1", "localhost", "[::1]", "::1"]
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=names))
    return Starlette(routes=routes, middleware=middleware)


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)
