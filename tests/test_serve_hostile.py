"""``newsletter serve`` with hostile input: every page in the editor's browser can send
requests to 127.0.0.1, and the issue file may be swapped for something that is not a file.

- A foreign ``Host`` (a DNS-rebinding page) is refused on every route, event streams included.
- A request that changes something (the fit, which writes the issue) runs only with the token
  the page was given and from the page's own origin: a form of another site, ``Origin: null``,
  a request without the token are refused, and the issue file keeps its bytes.
- A second fit while one runs is 409; a 17th event stream is 503 and the others go on; a page
  number outside the issue is 404; every answer carries the security headers.
- An issue file replaced by a named pipe or a symlink to ``/dev/zero`` is refused at once (no
  hang, no 2 GB read), by the preview (which recovers when a good file is back, and stops on
  Ctrl-C) and by the command line.

The server is the real one (uvicorn on a free port of 127.0.0.1), spoken to with http.client:
the requests set ``Host``, ``Origin`` and the other headers as a browser or an attacker would.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from newsletter.errors import IssueError
from newsletter.issue.load import load_kept
from newsletter.issue.yamlsafe import MAX_BYTES
from newsletter.workbench.guard import HOST, TOKEN_HEADER
from newsletter.workbench.liveview import ServeOptions
from newsletter.workbench.serve import MAX_STREAMS, serving

#: Seconds a build may take on a busy 2-core machine before a test gives up.
PATIENCE = 60.0
ROUTES = [("GET", "/"), ("GET", "/view"), ("GET", "/pages/1.png"), ("GET", "/events"), ("GET", "/mail")]
SECURITY = {
    "x-content-type-options": "nosniff",
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "referrer-policy": "no-referrer",
}


class Server:
    """A running preview: its port, its issue file and this run's token."""

    def __init__(self, url: str, issue: Path) -> None:
        self.port = int(url.rsplit(":", 1)[1])
        self.issue = issue
        self.own = f"127.0.0.1:{self.port}"
        self.token = self.token_of_page()

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body (the first 64 KB: an event stream does
        not end). ``Host`` is this server's unless ``headers`` names another."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=PATIENCE)
        try:
            connection.request(method, path, body=body, headers={"Host": self.own, **(headers or {})})
            answer = connection.getresponse()
            got = {name.lower(): value for name, value in answer.getheaders()}
            if got.get("content-type", "").startswith("text/event-stream"):
                return answer.status, got, answer.readline()
            return answer.status, got, answer.read(65536)
        finally:
            connection.close()

    def token_of_page(self) -> str:
        status, _, body = self.request("GET", "/")
        assert status == 200
        found = re.search(rb'<meta name="newsletter-token" content="([A-Za-z0-9_-]{32,})">', body)
        assert found is not None, body[:400]
        return found.group(1).decode("ascii")

    def fit(self, headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, bytes]:
        status, _, answer = self.request("POST", "/fit", headers, body)
        return status, answer

    def view(self) -> dict[str, Any]:
        status, _, body = self.request("GET", "/view")
        assert status == 200
        return dict(json.loads(body))

    def watching(self) -> None:
        """Until the watcher sees saves: the first build is announced a moment before it does,
        so a save is made (a comment added) and waited for."""
        seen = self.view()["generation"]
        with self.issue.open("a", encoding="utf-8") as handle:
            handle.write("\n# the watcher is awake\n")
        self.wait_view(lambda v: v["generation"] > seen and v["status"] != "building", "new view")

    def wait_view(self, ready: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """The view, once ``ready`` says so (a rebuild after a save takes a moment)."""
        deadline = time.monotonic() + PATIENCE
        while True:
            view = self.view()
            if ready(view):
                return view
            assert time.monotonic() < deadline, f"no {what} in the view: {view}"
            time.sleep(0.1)


def _copy(tmp: Path, fixture: str) -> Path:
    folder = tmp / fixture
    shutil.copytree(FIXTURES / fixture, folder)
    return folder


@pytest.fixture(scope="module")
def spill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The preview of a copy of the copy-fit fixture: a fit would change it (new_page: false)."""
    issue = _copy(tmp_path_factory.mktemp("hostile"), "copyfit") / "spill.yaml"
    with serving(ServeOptions(issue, port=0)) as url:
        yield Server(url, issue)


# -- Host: a page that rebinds its own name to 127.0.0.1 -------------------------------------


@pytest.mark.parametrize(("method", "path"), [*ROUTES, ("POST", "/fit")])
def test_a_foreign_host_is_refused_on_every_route(spill: Server, method: str, path: str) -> None:
    before = spill.issue.read_bytes()
    # With the page's token even (a rebinding page never has it): the Host alone refuses.
    headers = {"Host": f"evil.example:{spill.port}", TOKEN_HEADER: spill.token}
    status, got, body = spill.request(method, path, headers)
    assert status == 403, body
    assert body.startswith(b"refused: "), body
    assert not got.get("content-type", "").startswith(("text/event-stream", "image/", "application/json"))
    assert spill.issue.read_bytes() == before


@pytest.mark.parametrize(
    "host", ["evil.example", "127.0.0.1", "127.0.0.1:1", "localhost.:{port}", "127.0.0.1:{port}.evil.example"]
)
def test_only_the_servers_own_names_and_port_are_answered(spill: Server, host: str) -> None:
    status, _, _ = spill.request("GET", "/view", {"Host": host.format(port=spill.port)})
    assert status == 403


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_the_servers_own_names_are_answered(spill: Server, name: str) -> None:
    status, _, body = spill.request("GET", "/pages/1.png", {"Host": f"{name}:{spill.port}"})
    assert status == 200 and body.startswith(b"\x89PNG")


# -- requests that change something: a form or a simple request of another site --------------


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        # The plain HTML form of a foreign page.
        (
            {"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"},
            b"new_page=false",
        ),
        # A sandboxed frame's or a file's form: the browser says Origin: null.
        ({"Origin": "null", "Content-Type": "text/plain"}, b"x"),
        # No Origin at all (an older browser, a redirect) and no token.
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"a=b"),
        # The page's own origin, but no token.
        ({"Origin": "http://127.0.0.1:{port}"}, None),
        # A wrong token, of the right length.
        ({"Origin": "http://127.0.0.1:{port}", TOKEN_HEADER: "A" * 43}, None),
        # Another site that somehow had the token: its Origin gives it away.
        ({"Origin": "http://evil.example", TOKEN_HEADER: "{token}"}, None),
        ({"Origin": "null", TOKEN_HEADER: "{token}"}, None),
        # Another port of this machine is another site (another local server's page).
        ({"Origin": "http://127.0.0.1:1", TOKEN_HEADER: "{token}"}, None),
        # A browser that says the request is another site's (fetch metadata).
        ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", TOKEN_HEADER: "{token}"}, None),
        ({"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors", TOKEN_HEADER: "{token}"}, None),
    ],
    ids=[
        "form-foreign-origin",
        "text-plain-origin-null",
        "no-origin-no-token",
        "own-origin-no-token",
        "wrong-token",
        "foreign-origin-with-token",
        "null-origin-with-token",
        "other-port-with-token",
        "cross-site-navigation",
        "same-site-fetch",
    ],
)
def test_a_fit_from_another_site_is_refused_and_the_issue_unchanged(
    spill: Server, headers: dict[str, str], body: bytes | None
) -> None:
    before = spill.issue.read_bytes()
    filled = {k: v.format(port=spill.port, token=spill.token) for k, v in headers.items()}
    status, answer = spill.fit(filled, body)
    assert status == 403, answer
    assert b"refused" in answer
    # The real fit would have written `new_page: false` into this issue by now.
    assert spill.issue.read_bytes() == before


def test_every_method_that_may_change_something_needs_the_token(spill: Server) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        status, _, _ = spill.request(method, "/fit", {"Origin": "http://evil.example"})
        assert status == 403, method


def test_the_token_is_made_anew_for_each_run(tmp_path: Path, spill: Server) -> None:
    issue = _copy(tmp_path, "minimal") / "issue.yaml"
    with serving(ServeOptions(issue, port=0)) as url:
        other = Server(url, issue)
        assert other.token != spill.token
        # The page of the other run is refused here, and this run's page there.
        status, _ = spill.fit({TOKEN_HEADER: other.token})
        assert status == 403


class _SlowFit:
    """Stands in for ``fit_issue``: waits until the test lets it end."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.started.set()
        assert self.release.wait(PATIENCE)
        return self

    changed = False

    def describe(self) -> str:
        return "nothing to fit (stand-in)"


def test_the_pages_own_request_runs_and_a_second_fit_meanwhile_is_409(
    spill: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = _SlowFit()
    monkeypatch.setattr("newsletter.workbench.fit.fit_issue", slow)
    own = {"Origin": f"http://127.0.0.1:{spill.port}", TOKEN_HEADER: spill.token}
    first: list[tuple[int, bytes]] = []
    running = threading.Thread(target=lambda: first.append(spill.fit(own)), daemon=True)
    running.start()
    try:
        assert slow.started.wait(PATIENCE)
        status, answer = spill.fit(own)
        assert status == 409, answer
        assert "already running" in json.loads(answer)["report"]
    finally:
        slow.release.set()
        running.join(PATIENCE)
    [(status, answer)] = first
    assert status == 200 and json.loads(answer)["report"] == "nothing to fit (stand-in)"
    # The fit is over: the next one runs (without Origin too, as a script may send it).
    status, _ = spill.fit({TOKEN_HEADER: spill.token})
    assert status == 200
    assert slow.calls == 2


def test_a_fit_with_the_pages_token_writes_the_issue(tmp_path: Path) -> None:
    issue = _copy(tmp_path, "copyfit") / "spill.yaml"
    with serving(ServeOptions(issue, port=0)) as url:
        server = Server(url, issue)
        headers = {
            "Origin": f"http://127.0.0.1:{server.port}",
            TOKEN_HEADER: server.token,
            "Sec-Fetch-Site": "same-origin",
            "Sec-Fetch-Mode": "cors",
        }
        status, answer = server.fit(headers)
    assert status == 200, answer
    assert json.loads(answer)["changed"] is True
    assert "    new_page: false\n" in issue.read_text(encoding="utf-8")


# -- what every answer says, pages, event streams ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/", {}),
        ("GET", "/view", {}),
        ("GET", "/pages/1.png", {}),
        ("GET", "/events", {}),
        ("GET", "/static/app.js", {}),
        ("GET", "/static/style.css", {}),
        ("GET", "/no-such-thing", {}),
        ("GET", "/", {"Host": "evil.example"}),
        ("POST", "/fit", {}),
    ],
)
def test_every_answer_carries_the_security_headers(
    spill: Server, method: str, path: str, headers: dict[str, str]
) -> None:
    _, got, _ = spill.request(method, path, headers)
    for name, value in SECURITY.items():
        assert got.get(name) == value, (name, got)


def test_the_page_has_no_inline_script_or_style_the_policy_would_block(spill: Server) -> None:
    _, got, body = spill.request("GET", "/")
    html = body.decode("utf-8")
    assert got["cache-control"] == "no-store"  # the token of an earlier run never comes back
    assert "__NEWSLETTER_TOKEN__" not in html
    assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers"
    script = (
        Path(__file__).resolve().parent.parent / "newsletter" / "workbench" / "web" / "app.js"
    ).read_text()
    assert "innerHTML" not in script and "eval(" not in script and '"style"' not in script


@pytest.mark.parametrize("number", ["0", "00", "01", "-1", "1.0", "1e3", "99999", "9" * 7, "9" * 5000, "x"])
def test_a_page_outside_the_issue_is_404(spill: Server, number: str) -> None:
    status, _, _ = spill.request("GET", f"/pages/{number}.png")
    assert status == 404


def test_the_pages_of_the_issue_are_there_and_no_more(spill: Server) -> None:
    count = len(spill.wait_view(lambda v: v["status"] == "ready", "ready status")["pages"])
    assert count >= 3
    assert spill.request("GET", f"/pages/{count}.png")[0] == 200
    assert spill.request("GET", f"/pages/{count + 1}.png")[0] == 404


def _open_stream(server: Server) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection(HOST, server.port, timeout=PATIENCE)
    connection.request("GET", "/events", headers={"Host": server.own})
    return connection, connection.getresponse()


def _next_view(answer: http.client.HTTPResponse) -> dict[str, Any]:
    """The next view event of an open event stream (keep-alive comments skipped)."""
    event = b""
    while True:
        line = answer.readline()
        assert line, "the event stream ended"
        if line.startswith(b"event: "):
            event = line.strip()
        elif line.startswith(b"data: ") and event == b"event: view":
            return dict(json.loads(line[len(b"data: ") :]))


def test_at_most_16_event_streams_and_the_others_go_on(spill: Server) -> None:
    assert MAX_STREAMS == 16
    streams = []
    try:
        for _ in range(MAX_STREAMS):
            connection, answer = _open_stream(spill)
            streams.append((connection, answer))
            assert answer.status == 200
        last = [_next_view(answer)["generation"] for _, answer in streams]
        status, got, body = spill.request("GET", "/events")
        assert status == 503, body
        assert "retry-after" in got
        # The open ones go on: a save reaches each of them.
        with spill.issue.open("a", encoding="utf-8") as handle:
            handle.write("\n# saved again\n")
        for (_, answer), seen in zip(streams, last, strict=True):
            assert _next_view(answer)["generation"] > seen
        # A stream that ends gives its place back.
        streams.pop()[0].close()
        deadline = time.monotonic() + PATIENCE
        while True:
            connection, answer = _open_stream(spill)
            if answer.status == 200:
                streams.append((connection, answer))
                break
            connection.close()
            assert time.monotonic() < deadline, "the closed stream's place never came back"
            time.sleep(0.1)
    finally:
        for connection, _ in streams:
            connection.close()


# -- the issue file swapped for a named pipe, a device, a huge file ---------------------------


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()``'s result or exception; fails (instead of hanging) when it takes longer."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("value", call()))
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome.append(("raised", exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"still blocked after {seconds} s"
    kind, value = outcome[0]
    if kind == "raised":
        raise value
    return value


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def _huge(path: Path) -> None:
    path.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))


@pytest.mark.parametrize(
    ("swap", "said"),
    [(_fifo, "named pipe (FIFO)"), (_dev_zero, "a device"), (_huge, "larger than the limit")],
    ids=["fifo", "dev-zero", "huge"],
)
def test_a_kept_issue_swapped_for_a_non_file_is_refused_at_once(
    minimal: Path, swap: Callable[[Path], None], said: str
) -> None:
    kept: dict[Path, Any] = {}
    load_kept(minimal, kept)  # a warm process holds the issue: the next load compares texts
    swap(minimal)
    started = time.perf_counter()
    with pytest.raises(IssueError) as failed:
        _within(10, lambda: load_kept(minimal, kept))
    assert time.perf_counter() - started < 2
    assert said in str(failed.value)
    assert str(failed.value).startswith(f"{minimal}:")


def test_the_preview_shows_a_swapped_issue_as_an_error_and_recovers(tmp_path: Path) -> None:
    issue = _copy(tmp_path, "minimal") / "issue.yaml"
    good = issue.read_bytes()
    with serving(ServeOptions(issue, port=0)) as url:
        server = Server(url, issue)
        server.watching()
        for swap, said in [(_fifo, "named pipe (FIFO)"), (_dev_zero, "a device")]:
            swap(issue)
            view = server.wait_view(
                lambda v, said=said: v["status"] == "error" and said in json.dumps(v["errors"]), said
            )
            assert view["pages"], "the last good pages stay"
            # The fit answers at once (it used to wait for the pipe for good).
            status, answer = _within(30, lambda: server.fit({TOKEN_HEADER: server.token}))
            assert status == 200 and said in json.loads(answer)["report"]
            assert _within(30, lambda: server.request("GET", "/mail"))[0] == 200
            issue.unlink()
            issue.write_bytes(good)
            server.wait_view(lambda v: v["status"] == "ready" and not v["errors"], "recovery")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def test_ctrl_c_stops_a_preview_whose_issue_is_a_named_pipe(tmp_path: Path) -> None:
    issue = _copy(tmp_path, "minimal") / "issue.yaml"
    port = _free_port()
    command = [sys.executable, "-m", "newsletter", "serve", str(issue), "--port", str(port)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert child.stdout is not None
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            lines.append(child.stdout.readline())
            if "watching for saves" in lines[-1] or not lines[-1]:
                break
        assert "watching for saves" in "".join(lines), lines
        server = Server(f"http://{HOST}:{port}", issue)
        server.watching()
        _fifo(issue)
        server.wait_view(lambda v: "named pipe" in json.dumps(v["errors"]), "the pipe refused")
        child.send_signal(signal.SIGINT)
        rest, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, "".join(lines) + rest
    assert "stopped" in rest and "Traceback" not in rest


@pytest.mark.parametrize(
    ("swap", "code", "said"),
    [
        (_fifo, 2, "not a regular file"),
        (_dev_zero, 2, "not a regular file"),
        (_huge, 1, "larger than the limit"),
    ],
    ids=["fifo", "dev-zero", "huge"],
)
def test_check_refuses_a_non_file_at_once(
    minimal: Path, swap: Callable[[Path], None], code: int, said: str
) -> None:
    swap(minimal)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", "check", str(minimal)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said_all = done.stdout + done.stderr
    assert done.returncode == code, said_all
    assert said in said_all and "internal error" not in said_all and "MemoryError" not in said_all
    assert time.monotonic() - started < 60
