"""The live preview: ``newsletter serve ISSUE`` shows an edition's pages in the browser and
follows every save.

Input: an issue file and a layout. Output: a web page on 127.0.0.1 (``newsletter/workbench/web/``)
showing the pages as facing pages, how full each page is and the findings of the checks
beside the pages they concern, kept up to date as the editor saves.

How it stays fast: one warm ``Session`` rebuilds the edition after each save (``watchfiles``
watches the issue's folder and the layout). The browser holds a server-sent event stream
(Starlette, served by uvicorn); each event is the whole *view* (``View``): the pages with a
version each (a digest of the page's PNG), so the browser fetches again only the images
whose version changed (``/pages/<n>.png?v=<version>``, cached for good). The browser is
told which pages changed as soon as the layout is checked (they are marked), and the first
of them is rendered and shown before the others: written alone, before the PDF of every
page (the build's ``on_layout`` hook hands over the pages' fingerprints and a ``Proof``, a
way to write some pages alone, not the laid-out pages themselves).

The same server shows the message a post receives in each language (``/mail``, composed as
``send`` composes it) and runs ``newsletter fit --write`` on request (``/fit``).

A broken save (YAML that does not parse, a check that fails) keeps the last good pages and
shows the located errors over them; the next good save clears them.

What the page shows and how a rebuild makes it is in ``liveview.py``; every request passes
``Guard`` first (``guard.py``: this machine, this server's name, the page's token). This
module is the server: the page and its assets, the event streams, the watcher, the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import re
import secrets
import socket
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import EnvironmentFault
from .guard import HOST, TOKEN_PLACEHOLDER, Guard
from .liveview import Engine, Rendered, ServeOptions, View, finding_dict, mail_views

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import Receive, Scope, Send

#: Where the page's HTML, script and stylesheet are.
WEB = Path(__file__).resolve().parent / "web"
#: An idle event stream is sent a comment this often, so that proxies and the browser keep it.
KEEPALIVE_SECONDS = 15.0
#: How often an event stream looks whether the server is stopping.
STOP_POLL_SECONDS = 0.2
#: How long watchfiles waits for a save to settle (ms): editors write a file in one or two calls.
WATCH_STEP_MS = 20
#: The most event streams open at once (a tab holds one): a page that opens more is refused
#: (503) and cannot tie up the server.
MAX_STREAMS = 16
#: A page number as an address writes it: no sign, no leading zero, no 5000 digits.
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


class Hub:
    """The server's side of the view: the latest view and images, and the browsers listening.

    Lives on the event loop; the engine's thread hands it new views through
    ``call_soon_threadsafe``.
    """

    def __init__(self, view: View, halted: Callable[[], bool] = lambda: False) -> None:
        self.view = view
        self.rendered = Rendered()
        self._listeners: set[asyncio.Queue[View]] = set()
        self.stopping = asyncio.Event()
        #: Whether the server is stopping: the event streams end at once, so that a stop
        #: does not wait for the browsers (the server waits for open connections first).
        self._halted = halted

    def publish(self, view: View, rendered: Rendered) -> None:
        """Show ``view`` to every browser (on the loop's thread)."""
        self.view, self.rendered = view, rendered
        for queue in self._listeners:
            # Only the newest view matters: a slow browser skips the views it missed.
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(view)

    def _stopped(self) -> bool:
        return self.stopping.is_set() or self._halted()

    def subscribe(self) -> asyncio.Queue[View] | None:
        """A new browser's queue, holding the current view; None when ``MAX_STREAMS`` are open.
        The caller gives it back with ``unsubscribe`` when its stream ends."""
        if len(self._listeners) >= MAX_STREAMS:
            return None
        queue: asyncio.Queue[View] = asyncio.Queue()
        queue.put_nowait(self.view)
        self._listeners.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[View]) -> None:
        """The browser of ``queue`` is gone: its place is free."""
        self._listeners.discard(queue)

    async def events(self, queue: asyncio.Queue[View]) -> AsyncIterator[str]:
        """The server-sent events of one browser (its ``subscribe`` queue): the current view,
        then each new one."""
        quiet = 0.0
        while not self._stopped():
            try:
                view = await asyncio.wait_for(queue.get(), timeout=STOP_POLL_SECONDS)
            except TimeoutError:
                quiet += STOP_POLL_SECONDS
                if quiet >= KEEPALIVE_SECONDS:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                continue
            quiet = 0.0
            yield f"event: view\ndata: {json.dumps(view.as_dict(), ensure_ascii=False)}\n\n"


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: any free port); ``EnvironmentFault`` when
    the port is taken or cannot be used."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A preview stopped a moment ago leaves its connections in TIME_WAIT: starting again on the
    # same port must work. (Linux still refuses a port another socket listens on.)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise EnvironmentFault(
                f"port {port} on {HOST} is taken (another program, or another preview, listens there)",
                None,
                "choose another port with --port N, or stop the program that uses it",
            ) from None
        raise EnvironmentFault(
            f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
            None,
            "choose another port with --port N",
        ) from None
    sock.set_inheritable(False)
    return sock


def watched_kind(path: Path, options: ServeOptions) -> Literal["issue", "asset", "mail"] | None:
    """What a saved file means for the preview: the issue itself (rebuild), an image or a
    layout file (rebuild, every page rendered again), a sibling language (the mail, and the
    findings that compare the editions: a translation gone stale)."""
    name = path.name
    if name.startswith((".", "#")) or name.endswith(("~", ".swp", ".tmp")):
        return None  # editors' and our own temporaries
    try:
        if path.resolve() == options.issue.resolve():
            return "issue"
    except OSError:
        return None
    layout = options.layout.templates.resolve()
    if path.is_relative_to(layout):
        return "asset"
    if path.suffix.lower() in {".png", ".jpg", ".jpeg"}:
        return "asset"
    if path.suffix == ".yaml" and path.parent.resolve() == options.issue.parent.resolve():
        return "mail"
    return None


def make_app(
    options: ServeOptions,
    work: Path,
    on_ready: Callable[[], None] | None = None,
    halted: Callable[[], bool] = lambda: False,
) -> Guard:
    """The web application: the page, its assets, the page images, the event stream, the mail
    preview and the fit button (``newsletter fit --write``), behind ``Guard`` (the server's
    port is ``options.port``). Builds the edition when it starts and after every save."""
    import anyio.to_thread
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    hub = Hub(View(str(options.issue), options.edition), halted)
    mail_cache: dict[str, Any] = {}
    # One thread builds: a rebuild, the mail's editions and fit never lay out at once.
    builder = anyio.CapacityLimiter(1)
    # Made anew for each run: a page of an earlier run (or of another site) does not have it.
    token = secrets.token_urlsafe(32)
    fitting: set[str] = set()  # "fit" while one runs

    class EventStream(StreamingResponse):
        """An event stream that gives its place back however it ends (even unstarted)."""

        def __init__(self, queue: asyncio.Queue[View]) -> None:
            headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            super().__init__(hub.events(queue), media_type="text/event-stream", headers=headers)
            self.queue = queue

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await super().__call__(scope, receive, send)
            finally:
                hub.unsubscribe(self.queue)

    async def watch(engine: Engine) -> None:
        import watchfiles

        # abandon_on_cancel: a stop (Ctrl-C) does not wait for a build to end; the build's
        # own writes are atomic, and what it would show is dropped (``publish``).
        await anyio.to_thread.run_sync(engine.rebuild, True, limiter=builder, abandon_on_cancel=True)
        if hub.stopping.is_set():
            return
        if on_ready is not None:
            on_ready()
        folders = {options.issue.parent.resolve(), options.layout.templates.resolve()}
        async for changes in watchfiles.awatch(
            *sorted(folders), stop_event=hub.stopping, step=WATCH_STEP_MS, debounce=1600, recursive=True
        ):
            kinds = {watched_kind(Path(path), options) for _, path in changes}
            if kinds & {"issue", "asset", "mail"}:
                mail_cache.clear()
            if kinds & {"issue", "asset"}:
                await anyio.to_thread.run_sync(
                    engine.rebuild, "asset" in kinds, limiter=builder, abandon_on_cancel=True
                )
            elif "mail" in kinds:
                # A sibling language: the findings that compare the editions follow it.
                await anyio.to_thread.run_sync(engine.siblings_saved, limiter=builder, abandon_on_cancel=True)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()

        def publish(view: View, rendered: Rendered) -> None:
            # A build still running when the server stopped has no one left to show it to.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(hub.publish, view, rendered)

        engine = Engine(options, work, publish)
        task = asyncio.ensure_future(watch(engine))
        try:
            yield
        finally:
            hub.stopping.set()
            task.cancel()
            # Stopping: a watch cut short has nothing left to report; never wait long for it.
            await asyncio.wait({task}, timeout=3)
            if task.done() and not task.cancelled():
                with contextlib.suppress(Exception):
                    task.result()
            # A rebuild the stop abandoned may still be writing into the work folder.
            await anyio.to_thread.run_sync(engine.close)

    async def index(request: Request) -> Response:
        # The page carries this run's token (for its script); never kept by the browser, so
        # that a page of an earlier run does not come back from the cache with an old one.
        html = (WEB / "index.html").read_text(encoding="utf-8").replace(TOKEN_PLACEHOLDER, token)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def view(request: Request) -> Response:
        return JSONResponse(hub.view.as_dict())

    async def events(request: Request) -> Response:
        queue = hub.subscribe()
        if queue is None:
            return PlainTextResponse(
                f"more than {MAX_STREAMS} previews are open: close one", 503, headers={"Retry-After": "10"}
            )
        return EventStream(queue)

    async def page(request: Request) -> Response:
        written = request.path_params["number"]
        png = hub.rendered.images.get(int(written)) if _PAGE_NUMBER.fullmatch(written) else None
        if png is None:
            return Response("no such page", status_code=404, media_type="text/plain")
        version = hub.rendered.versions.get(int(written))
        # A versioned address never shows other pixels: the browser may keep it for good.
        cache = (
            "public, max-age=31536000, immutable" if request.query_params.get("v") == version else "no-cache"
        )
        return Response(png, media_type="image/png", headers={"Cache-Control": cache})

    async def mail(request: Request) -> Response:
        from ..errors import IssueError

        if "views" not in mail_cache:
            try:
                made = await anyio.to_thread.run_sync(
                    mail_views, options.issue, work / "mail", options.layout, limiter=builder
                )
            except IssueError as failed:
                errors = [finding_dict(f) for f in failed.findings if f.severity == "error"]
                return JSONResponse({"messages": [], "errors": errors})
            mail_cache["views"] = [m.as_dict() for m in made]
        return JSONResponse({"messages": mail_cache["views"], "errors": []})

    async def fit(request: Request) -> Response:
        from ..errors import IssueError, format_findings
        from .fit import fit_issue

        def fit_and_write() -> Any:
            return fit_issue(options.issue, options.layout, options.edition, write=True)

        # Checked and marked with no wait in between: on the one event loop, no other request
        # runs in the meantime.
        if fitting:
            return JSONResponse({"report": "a fit is already running", "changed": False}, 409)
        fitting.add("fit")
        try:
            done = await anyio.to_thread.run_sync(fit_and_write, limiter=builder)
        except IssueError as failed:
            return JSONResponse({"report": format_findings(failed.findings), "changed": False})
        except EnvironmentFault as fault:
            return JSONResponse({"report": f"error: {fault}", "changed": False})
        finally:
            fitting.discard("fit")
        # The issue file is written: the watcher sees it and the pages follow.
        written = "\nwritten into the issue: the pages follow" if done.changed else ""
        return JSONResponse({"report": done.describe() + written, "changed": done.changed})

    routes = [
        Route("/", index),
        Route("/fit", fit, methods=["POST"]),
        Route("/view", view),
        Route("/events", events),
        # Any text: the route judges the number (``{number:int}`` failed with 500 on 5000 digits).
        Route("/pages/{number}.png", page),
        Route("/mail", mail),
        Mount("/static", StaticFiles(directory=WEB), name="static"),
    ]
    return Guard(Starlette(routes=routes, lifespan=lifespan), options.port, token)


def _server(options: ServeOptions, work: Path, on_ready: Callable[[], None] | None) -> uvicorn.Server:
    import uvicorn

    servers: list[uvicorn.Server] = []
    config = uvicorn.Config(
        make_app(options, work, on_ready, lambda: bool(servers) and servers[0].should_exit),
        log_level="warning",
        lifespan="on",
        # Open event streams must not hold a stop (Ctrl-C) for long.
        timeout_graceful_shutdown=1,
    )
    servers.append(uvicorn.Server(config))
    return servers[0]


def serve(options: ServeOptions, announce: Callable[[str], None] = print) -> None:
    """Serve the preview until interrupted (Ctrl-C). ``EnvironmentFault`` when the port is taken."""
    sock = bind(options.port)
    port = sock.getsockname()[1]
    options = replace(options, port=port)  # the port taken (--port 0), as the guard expects it
    with tempfile.TemporaryDirectory(prefix="newsletter-serve-") as work:
        server = _server(options, Path(work), lambda: announce("first build done; watching for saves"))
        announce(f"serving {options.issue} ({options.edition}) at http://{HOST}:{port}/ - Ctrl-C to stop")
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()


@contextmanager
def serving(options: ServeOptions, timeout: float = 120.0) -> Iterator[str]:
    """Run the preview in a thread of this process (tests, benchmarks) and yield its address
    once the first build is shown; stopped on leaving the block."""
    sock = bind(options.port)
    options = replace(options, port=sock.getsockname()[1])  # the port taken, for the guard
    ready = threading.Event()
    with tempfile.TemporaryDirectory(prefix="newsletter-serve-") as work:
        server = _server(options, Path(work), ready.set)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            if not ready.wait(timeout):
                raise TimeoutError(f"the preview's first build took over {timeout} s")
            yield f"http://{HOST}:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()
