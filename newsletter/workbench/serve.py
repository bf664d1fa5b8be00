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
of them is rendered and shown before the others. Its image is read from the written PDF:
the build's ``on_layout`` hook hands over the pages' fingerprints, not the laid-out pages.

The same server shows the message a post receives in each language (``/mail``, composed as
``send`` composes it) and runs ``newsletter fit --write`` on request (``/fit``).

A broken save (YAML that does not parse, a check that fails) keeps the last good pages and
shows the located errors over them; the next good save clears them.

Every page the editor's browser opens can send requests to 127.0.0.1, so ``Guard`` stands in
front of the whole application: it answers only requests addressed to this server by name
(``Host``: against DNS rebinding), runs a request that changes something (the fit, which
writes the issue) only with the token the page was given and from the page's own origin,
and adds headers that keep the page's script, styles and images its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import errno
import hashlib
import hmac
import json
import re
import secrets
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from email.message import Message
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..defaults import DEFAULT_TIME_LIMIT
from ..engine.pagefill import PageFill
from ..engine.render import DEFAULT_LAYOUT, Layout
from ..errors import EnvironmentFault, Finding
from ..session import Rebuilt, Session
from .pageimages import page_pngs

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send
    from starlette.types import Message as AsgiMessage

#: Only this machine: the preview shows unpublished work and runs no authentication.
HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Where the page's HTML, script and stylesheet are.
WEB = Path(__file__).resolve().parent / "web"
#: An idle event stream is sent a comment this often, so that proxies and the browser keep it.
KEEPALIVE_SECONDS = 15.0
#: How often an event stream looks whether the server is stopping.
STOP_POLL_SECONDS = 0.2
#: How long watchfiles waits for a save to settle (ms): editors write a file in one or two calls.
WATCH_STEP_MS = 20
#: The sender the mail preview is composed with (the recipients file names the real one).
PREVIEW_SENDER = "editors@example.org"
_SECTION_FIELD = re.compile(r"^sections\[(\d+)\]")
#: The most event streams open at once (a tab holds one): a page that opens more is refused
#: (503) and cannot tie up the server.
MAX_STREAMS = 16
#: The header with which the page's own script proves a request that changes something comes
#: from it: it carries the token the page was given. A form or a "simple" request of another
#: site cannot set a header, and no other site can read the page to learn the token.
TOKEN_HEADER = "X-Newsletter-Token"
#: Where ``index.html`` receives the token of this server's run.
TOKEN_PLACEHOLDER = "__NEWSLETTER_TOKEN__"
#: Methods that change nothing; any other needs the token.
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: A page number as an address writes it: no sign, no leading zero, no 5000 digits.
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")
#: Sent with every answer: nothing is guessed to be HTML or script, the page runs only its own
#: script and styles and shows only its own images, is never framed, and never tells other
#: sites where the editor was; the page images are not shown by other sites' pages.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii")),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
)

Status = Literal["starting", "building", "ready", "error"]


@dataclass(frozen=True)
class ServeOptions:
    """What to serve and how."""

    issue: Path
    edition: str = "email"
    layout: Layout = DEFAULT_LAYOUT
    port: int = DEFAULT_PORT
    #: Resolution of the page images (96: a page at 100 % on most screens).
    dpi: float = 96.0
    time_limit: float | None = DEFAULT_TIME_LIMIT


@dataclass(frozen=True)
class PageView:
    """One page as the browser shows it."""

    number: int
    #: A digest of the page's image: a new version is a page that looks different.
    version: str
    full: float | None
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class View:
    """Everything the page shows; a new one after each change, pushed whole to the browser."""

    issue: str
    edition: str
    status: Status = "starting"
    generation: int = 0
    pages: tuple[PageView, ...] = ()
    #: Findings that concern no page in particular.
    findings: tuple[Finding, ...] = ()
    #: The errors of the last save, shown over the last good pages until a good save.
    errors: tuple[Finding, ...] = ()
    #: Pages being rebuilt (the layout says they changed; their new image is on its way).
    stale: tuple[int, ...] = ()
    #: Seconds the last rebuild took.
    seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as the browser reads it (``newsletter/workbench/web/app.js``)."""
        return {
            "issue": self.issue,
            "edition": self.edition,
            "status": self.status,
            "generation": self.generation,
            "pages": [
                {
                    "page": p.number,
                    "version": p.version,
                    "url": f"/pages/{p.number}.png?v={p.version}",
                    "full": None if p.full is None else round(p.full, 2),
                    "findings": [_finding(f) for f in p.findings],
                }
                for p in self.pages
            ],
            "findings": [_finding(f) for f in self.findings],
            "errors": [_finding(f) for f in self.errors],
            "stale": list(self.stale),
            "seconds": None if self.seconds is None else round(self.seconds, 2),
        }


def _finding(finding: Finding) -> dict[str, Any]:
    return {**finding.as_dict(), "where": finding.where, "text": str(finding), "excerpt": finding.excerpt}


def place_findings(
    findings: Sequence[Finding], fills: Sequence[PageFill], section_ids: Sequence[str]
) -> tuple[dict[int, list[Finding]], list[Finding]]:
    """The findings by page, and those of no page.

    A layout finding names its page. A content finding names a field: a field of a section
    goes beside the section's first page, a field of the cover or the issue's metadata beside
    page 1, so that an editor sees the finding where the text prints.
    """
    first_page: dict[str, int] = {}
    for fill in fills:
        for part in fill.sections:
            first_page.setdefault(part.id, fill.page)
    pages = {fill.page for fill in fills}
    by_page: dict[int, list[Finding]] = {}
    loose: list[Finding] = []
    for finding in findings:
        page = finding.page
        if page is None and finding.field:
            match = _SECTION_FIELD.match(finding.field)
            if match is None:
                page = 1
            elif int(match.group(1)) < len(section_ids):
                page = first_page.get(section_ids[int(match.group(1))])
        if page is not None and page in pages:
            by_page.setdefault(page, []).append(finding)
        else:
            loose.append(finding)
    return by_page, loose


@dataclass
class Rendered:
    """The pages of the last good build: each page's PNG and version, how full each is."""

    images: dict[int, bytes] = field(default_factory=dict)
    versions: dict[int, str] = field(default_factory=dict)
    fills: tuple[PageFill, ...] = ()
    findings: tuple[Finding, ...] = ()
    section_ids: tuple[str, ...] = ()


def _version(png: bytes) -> str:
    return hashlib.blake2b(png, digest_size=6).hexdigest()


class Engine:
    """Rebuilds the edition after a save and renders the pages that changed.

    Runs in one worker thread at a time (the server awaits each rebuild before the next);
    ``publish`` is how it tells the server what to show, from that thread.
    """

    def __init__(self, options: ServeOptions, work: Path, publish: Callable[[View, Rendered], None]) -> None:
        self.options = options
        self.session = Session(options.issue, options.edition, work, options.layout)
        self._publish = publish
        self.rendered = Rendered()
        self.view = View(str(options.issue), options.edition)

    def rebuild(self, everything: bool = False) -> View:
        """Build again and publish the new view; ``everything`` renders every page again (an
        image or the layout changed: the layout's fingerprints may not see a new photo)."""
        started = time.perf_counter()
        self._show(replace(self.view, status="building"))

        def changed(pages: list[int]) -> None:
            # The layout is checked: say which pages are on their way before the PDF is written.
            self._show(replace(self.view, status="building", stale=tuple(pages)))

        try:
            return self._rebuilt(self.session.rebuild(on_changed=changed), everything, started)
        except EnvironmentFault as fault:
            problem = Finding("environment", "error", str(fault), fault.hint, fault.path)
            return self._failed([problem], started)
        except Exception as exc:  # noqa: BLE001 - a bug must not take the preview down
            traceback.print_exc(file=sys.stderr)
            bug = Finding("internal", "error", f"the tool failed: {exc!r} (a bug; see the terminal)")
            return self._failed([bug], started)

    def _rebuilt(self, done: Rebuilt, everything: bool, started: float) -> View:
        """Render the pages of a rebuild and show them: the first changed page alone first
        (what the editor waits for), then the other changed pages, then any page not yet
        rendered (every page when ``everything``)."""
        result = done.result
        pdf = result.pdf if result is not None else None
        if result is None or pdf is None:
            return self._failed(done.findings, started)
        count = result.pages
        first = [n for n in done.changed if n <= count]
        rest = [
            n for n in range(1, count + 1) if n not in first and (everything or n not in self.rendered.images)
        ]
        images = {n: png for n, png in self.rendered.images.items() if n <= count}
        versions = {n: v for n, v in self.rendered.versions.items() if n <= count}
        findings = tuple(result.findings)
        ids = tuple(section.id for section in result.issue.sections)
        pending = [*first, *rest]
        for batch in (first[:1], first[1:], rest):
            if not batch:
                continue
            for number, png in page_pngs(pdf, batch, self.options.dpi).items():
                images[number], versions[number] = png, _version(png)
                pending.remove(number)
            self.rendered = Rendered(images, versions, result.fills, findings, ids)
            self._show(self._ready(started, stale=tuple(sorted(pending))))
        self.rendered = Rendered(images, versions, result.fills, findings, ids)
        view = self._ready(started)
        self._show(view)
        return view

    def _ready(self, started: float, stale: tuple[int, ...] = ()) -> View:
        rendered = self.rendered
        by_page, loose = place_findings(rendered.findings, rendered.fills, rendered.section_ids)
        full = {fill.page: fill.full for fill in rendered.fills}
        pages = tuple(
            PageView(n, rendered.versions[n], full.get(n), tuple(by_page.get(n, ())))
            for n in sorted(rendered.versions)
        )
        return replace(
            self.view,
            status="ready",
            pages=pages,
            findings=tuple(loose),
            errors=(),
            stale=stale,
            seconds=time.perf_counter() - started,
        )

    def _failed(self, findings: Sequence[Finding], started: float) -> View:
        errors = tuple(f for f in findings if f.severity == "error") or tuple(findings)
        view = replace(
            self.view, status="error", errors=errors, stale=(), seconds=time.perf_counter() - started
        )
        self._show(view)
        return view

    def _show(self, view: View) -> None:
        self.view = replace(view, generation=self.view.generation + 1)
        self._publish(self.view, self.rendered)


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


@dataclass(frozen=True)
class MailView:
    """The message a post of one language receives, as the browser shows it."""

    language: str
    subject: str
    body: str
    attachment: str
    attachment_bytes: int
    message_bytes: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "language": self.language,
            "subject": self.subject,
            "body": self.body,
            "attachment": {"name": self.attachment, "bytes": self.attachment_bytes},
            "message_bytes": self.message_bytes,
        }


def mail_views(source: Path, out_dir: Path, layout: Layout) -> list[MailView]:
    """The message of each language of the issue (itself and its ``.<lang>.yaml`` siblings),
    composed as ``send`` composes it, from the email edition of each (built into ``out_dir``,
    or reused when nothing changed). Raises ``IssueError`` when one has errors."""
    from ..issue.load import load_kept
    from ..send.compose import Composer
    from ..send.edition import email_edition
    from ..send.plan import language_sources

    load = partial(load_kept, kept={})  # each issue file read once
    sources = language_sources(source, load)
    languages = {language: email_edition(path, out_dir, layout, load) for language, path in sources.items()}
    composer = Composer(languages, PREVIEW_SENDER, None, layout)
    views = []
    for language in languages:
        _, wire = composer.test_wire(language, "post@example.org")
        message = email.message_from_bytes(wire)
        body, attachment, size = _parts(message)
        views.append(MailView(language, composer.subject(language), body, attachment, size, len(wire)))
    return views


def _parts(message: Message) -> tuple[str, str, int]:
    """The text body, the attachment's name and its size in bytes."""
    body, name, size = "", "", 0
    for part in message.walk():
        filename = part.get_filename()
        if filename:
            payload = part.get_payload(decode=True)
            name, size = filename, len(payload) if isinstance(payload, bytes) else 0
        elif part.get_content_type() == "text/plain" and not body:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                body = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return body, name, size


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
    layout file (rebuild, every page rendered again), a sibling language (the mail only)."""
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


def own_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values of this server: its loopback names with its port."""
    names = ("127.0.0.1", "localhost", "[::1]")
    # A browser leaves the port out when it is HTTP's own.
    return frozenset({f"{name}:{port}" for name in names} | (set(names) if port == 80 else set()))


class Guard:
    """ASGI middleware in front of the whole preview (event streams included).

    - A ``Host`` other than this server's (``own_hosts``) is refused before any route runs:
      a page of another site that rebinds its name to 127.0.0.1 sends its own name.
    - A browser that says the request comes from another site (``Sec-Fetch-Site``) is refused,
      unless the editor follows a link to the page.
    - A request that may change something (any method but GET and HEAD) runs only with this
      run's token in ``TOKEN_HEADER`` (compared in constant time) and, when the browser names
      its origin, from this server's own (``Origin: null`` or another site: refused).

    Every answer, refusals included, carries ``SECURITY_HEADERS``.
    """

    def __init__(self, app: ASGIApp, port: int, token: str) -> None:
        self.app = app
        self.port = port
        self.hosts = own_hosts(port)
        self._token = token.encode("ascii")

    def refusal(self, scope: Scope) -> str | None:
        """Why the request of ``scope`` is refused, or None."""
        from starlette.datastructures import Headers

        headers = Headers(scope=scope)
        hosts = headers.getlist("host")
        if len(hosts) != 1 or hosts[0].lower() not in self.hosts:
            return f"this preview answers only at the address it printed (http://{HOST}:{self.port}/)"
        method = scope.get("method", "GET")
        navigating = headers.get("sec-fetch-mode") == "navigate" and method in SAFE_METHODS
        if headers.get("sec-fetch-site") in {"cross-site", "same-site"} and not navigating:
            return "a request from another site's page"
        if method in SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None and origin.lower() != f"http://{hosts[0].lower()}":
            return "a request from another site's page"
        # Headers are Latin-1 on the wire; anything else is simply not the token.
        given = headers.get(TOKEN_HEADER, "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, self._token):
            return "a request without the page's token: reload the page (the preview was restarted?)"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)  # lifespan
            return

        async def secured(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                own = {name for name, _ in SECURITY_HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in own]
                message = {**message, "headers": [*kept, *SECURITY_HEADERS]}
            await send(message)

        refused = self.refusal(scope)
        if refused is None:
            await self.app(scope, receive, secured)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # the server answers 403
        else:
            from starlette.responses import PlainTextResponse

            await PlainTextResponse(f"refused: {refused}\n", status_code=403)(scope, receive, secured)


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
                errors = [_finding(f) for f in failed.findings if f.severity == "error"]
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
