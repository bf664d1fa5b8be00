"""The guard in front of the live preview: every page the editor's browser opens can send
requests to 127.0.0.1, so ``Guard`` answers only requests addressed to this server by name
(``Host``: against DNS rebinding), runs a request that changes something (the fit, which
writes the issue) only with the token the page was given and from the page's own origin,
and adds headers that keep the page's script, styles and images its own.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send
    from starlette.types import Message as AsgiMessage

#: Only this machine: the preview shows unpublished work and runs no authentication.
HOST = "127.0.0.1"
#: The header with which the page's own script proves a request that changes something comes
#: from it: it carries the token the page was given. A form or a "simple" request of another
#: site cannot set a header, and no other site can read the page to learn the token.
TOKEN_HEADER = "X-Newsletter-Token"
#: Where ``index.html`` receives the token of this server's run.
TOKEN_PLACEHOLDER = "__NEWSLETTER_TOKEN__"
#: Methods that change nothing; any other needs the token.
SAFE_METHODS = frozenset({"GET", "HEAD"})
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
