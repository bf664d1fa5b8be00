"""``newsletter serve``: the live preview, seen through a real headless browser (Debian's
Chromium, driven by Playwright) as an editor sees it: twelve pages, an edit that replaces the
changed page's image and no other, a broken save shown over the last good pages and the
recovery, the server on 127.0.0.1 only, a taken port, Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, ISSUE_10, edit
from systools import CHROMIUM, require
from typer.testing import CliRunner

from newsletter.cli import EXIT_ENVIRONMENT, app
from newsletter.workbench.guard import HOST
from newsletter.workbench.liveview import ServeOptions
from newsletter.workbench.serve import serving

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Seconds a rebuild may take on a busy 2-core machine before a test gives up.
WAIT_MS = 60_000
# Conditions are written as functions ("() => ..."): Playwright evaluates a bare expression
# with eval, which the page's Content-Security-Policy forbids.


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    require("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def issue_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of issue 10 and its images, edited by the tests in turn."""
    folder = tmp_path_factory.mktemp("serve") / "issues"
    shutil.copytree(ISSUE_10.parent, folder)
    return folder


@pytest.fixture(scope="module")
def served(issue_folder: Path) -> Iterator[str]:
    """The preview of the copy of issue 10, on a free port, stopped after the module."""
    with serving(ServeOptions(issue_folder / ISSUE_10.name, port=0)) as url:
        yield url


@pytest.fixture(scope="module")
def page(browser: Any, served: str) -> Iterator[Any]:
    """The preview open in a tab, with every request for a page image recorded."""
    tab = browser.new_page()
    fetched: list[str] = []
    tab.on("request", lambda request: fetched.append(request.url) if "/pages/" in request.url else None)
    tab.fetched = fetched
    tab.goto(served)
    tab.wait_for_function("() => document.querySelectorAll('img.page-image').length === 12", timeout=WAIT_MS)
    _wait_loaded(tab)
    yield tab
    tab.close()


def _wait_loaded(tab: Any) -> None:
    """Until every page image shows its current version."""
    tab.wait_for_function(
        """() => [...document.querySelectorAll('img.page-image')].every(
            (img) => img.complete && img.naturalWidth > 0 && img.src.endsWith('v=' + img.dataset.version))""",
        timeout=WAIT_MS,
    )


def _versions(tab: Any) -> dict[int, str]:
    found: dict[str, str] = tab.evaluate(
        "Object.fromEntries([...document.querySelectorAll('img.page-image')].map(i => [i.dataset.page, i.dataset.version]))"
    )
    return {int(number): version for number, version in found.items()}


def test_the_page_shows_twelve_pages_as_facing_pages(page: Any) -> None:
    assert len(_versions(page)) == 12
    # The cover alone on the right, as in the printed newsletter; then 2-3...
    rows = page.evaluate(
        "[...document.querySelectorAll('.spread')].map(r => [...r.querySelectorAll('img')].map(i => +i.dataset.page))"
    )
    assert rows[:3] == [[1], [2, 3], [4, 5]]
    assert page.locator(".spread").first.locator(".page.empty").count() == 1
    # How full each page is, under it.
    assert "% full" in page.locator("figcaption").nth(1).inner_text()
    # Findings beside their page: issue 10's stand-in images are notices with file:line:col
    # (after the page-fill notice of page 2, which is under the layout's fullness).
    side = page.locator(".side li.notice", has_text="stand-in").first.inner_text()
    assert "issue-10.yaml:" in side and "[stand-in]" in side


def test_an_edit_replaces_only_the_changed_pages_image(page: Any, issue_folder: Path) -> None:
    before = _versions(page)
    page.fetched.clear()
    edit(issue_folder / ISSUE_10.name, "Sarajevo, Bosnia and", "Sarajevo (Bosnia) and")
    page.wait_for_function(
        f"() => {{ const v = {json.dumps({str(k): v for k, v in before.items()})};"
        " return [...document.querySelectorAll('img.page-image')].some(i => v[i.dataset.page] !== i.dataset.version); }",
        timeout=WAIT_MS,
    )
    page.wait_for_function(
        "() => window.__view.status === 'ready' && window.__view.stale.length === 0", timeout=WAIT_MS
    )
    _wait_loaded(page)
    after = _versions(page)
    changed = {n for n in after if after[n] != before.get(n)}
    assert changed and len(changed) < 12, changed
    # Only the changed pages' images were fetched again.
    refetched = {int(url.split("/pages/")[1].split(".png")[0]) for url in page.fetched}
    assert refetched == changed


def test_a_broken_save_shows_the_located_error_over_the_last_pages_then_recovers(
    page: Any, issue_folder: Path
) -> None:
    issue = issue_folder / ISSUE_10.name
    good = issue.read_text(encoding="utf-8")
    before = _versions(page)
    issue.write_text(good.replace("title: ", "title: [unclosed ", 1), encoding="utf-8")
    page.wait_for_selector("#errors:not([hidden])", timeout=WAIT_MS)
    error = page.locator("#error-list li").first.inner_text()
    assert "issue-10.yaml:" in error and "error" in error
    # The last good pages stay in view.
    assert _versions(page) == before
    assert page.locator("img.page-image").count() == 12
    issue.write_text(good, encoding="utf-8")
    page.wait_for_selector("#errors", state="hidden", timeout=WAIT_MS)
    page.wait_for_function("() => window.__view.status === 'ready'", timeout=WAIT_MS)
    assert page.locator("img.page-image").count() == 12


def test_the_server_listens_on_127_0_0_1_only(served: str) -> None:
    port = int(served.rsplit(":", 1)[1])
    with urllib.request.urlopen(f"{served}/view", timeout=10) as answer:
        assert json.load(answer)["status"] in {"ready", "building", "error"}
    # Another loopback address of this machine is refused: the socket is bound to 127.0.0.1 only.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", port), timeout=5).close()
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    ours = [
        line.split()[1]
        for line in listening
        if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A"
    ]
    assert ours == [f"0100007F:{port:04X}"]


def test_a_taken_port_is_an_environment_failure() -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app, ["serve", str(FIXTURES / "minimal" / "issue.yaml"), "--port", str(port)]
        )
    assert result.exit_code == EXIT_ENVIRONMENT
    assert f"port {port} on 127.0.0.1 is taken" in result.output
    assert "--port" in result.output


def test_the_mail_a_post_receives(tmp_path: Path) -> None:
    folder = tmp_path / "minimal"
    shutil.copytree(FIXTURES / "minimal", folder)
    with (
        serving(ServeOptions(folder / "issue.yaml", port=0)) as url,
        urllib.request.urlopen(f"{url}/mail", timeout=120) as answer,
    ):
        mail = json.load(answer)
    assert mail["errors"] == []
    [message] = mail["messages"]
    assert message["language"] == "en"
    assert message["subject"] == "Issue 1: A minimal issue"
    assert "A lead paragraph." in message["body"]
    assert message["attachment"]["name"] == "issue-email.pdf"
    assert message["attachment"]["bytes"] > 1000


def test_ctrl_c_stops_it_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "minimal"
    shutil.copytree(FIXTURES / "minimal", folder)
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "newsletter", "serve", str(folder / "issue.yaml"), "--port", str(port)]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ
    )
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 120
        lines = []
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            lines.append(line)
            if "watching for saves" in line or not line:
                break
        assert "watching for saves" in "".join(lines), lines
        child.send_signal(signal.SIGINT)
        rest, _ = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, "".join(lines) + rest
    assert "stopped" in rest
    assert "Traceback" not in rest


def test_the_fit_button_fits_the_pages_and_the_view_follows(browser: Any, tmp_path: Path) -> None:
    folder = tmp_path / "copyfit"
    shutil.copytree(FIXTURES / "copyfit", folder)
    issue = folder / "spill.yaml"
    with serving(ServeOptions(issue, port=0)) as url:
        tab = browser.new_page()
        # The page runs under its Content-Security-Policy: anything it blocks is logged here.
        problems: list[str] = []
        tab.on(
            "console",
            lambda message: (
                problems.append(f"{message.text} ({message.location.get('url')})")
                if message.type == "error"
                else None
            ),
        )
        tab.on("pageerror", lambda error: problems.append(str(error)))
        try:
            tab.goto(url)
            tab.wait_for_function(
                "() => document.querySelectorAll('img.page-image').length === 4", timeout=WAIT_MS
            )
            # The fit is sent with the token the page was given, from the page's own origin.
            tab.click("#fit-button")
            tab.wait_for_function(
                "() => document.getElementById('fit-report').textContent.includes('pages: 4 -> 3')",
                timeout=WAIT_MS,
            )
            # fit wrote the issue; the watcher saw it and the view follows with three pages.
            tab.wait_for_function(
                "() => document.querySelectorAll('img.page-image').length === 3", timeout=WAIT_MS
            )
        finally:
            tab.close()
    assert "    new_page: false\n" in issue.read_text(encoding="utf-8")
    assert [p for p in problems if "favicon" not in p] == []


def test_findings_go_beside_the_page_where_their_text_prints() -> None:
    from newsletter.check.copyfit import PageFill, SectionPart
    from newsletter.errors import Finding
    from newsletter.workbench.liveview import place_findings

    fills = [
        PageFill(1, 0.8, ()),
        PageFill(2, 0.9, (SectionPart("a", 40, 400, 12.0),)),
        PageFill(3, 0.5, (SectionPart("a", 10, 100, 12.0), SectionPart("b", 10, 100, 12.0))),
    ]
    layout = Finding("overflow", "error", "runs past its page", page=3)
    in_b = Finding("stand-in", "notice", "a stand-in", field="sections[1].blocks[0].image", line=9, col=3)
    on_cover = Finding("placeholder", "error", "TODO", field="cover.lead", line=4, col=9)
    nowhere = Finding("labels", "error", "a word is missing")
    by_page, loose = place_findings([layout, in_b, on_cover, nowhere], fills, ["a", "b"])
    assert by_page == {3: [layout, in_b], 1: [on_cover]}
    assert loose == [nowhere]


def test_which_saves_rebuild(tmp_path: Path) -> None:
    from newsletter.build import DEFAULT_LAYOUT
    from newsletter.workbench.serve import watched_kind

    issue = tmp_path / "issue-10.yaml"
    options = ServeOptions(issue)
    assert watched_kind(issue, options) == "issue"
    assert watched_kind(tmp_path / "images" / "photo.jpg", options) == "asset"
    assert watched_kind(DEFAULT_LAYOUT.templates / "newsletter.css", options) == "asset"
    assert watched_kind(tmp_path / "issue-10.fr.yaml", options) == "mail"
    assert watched_kind(tmp_path / ".issue-10.yaml.swp", options) is None
    assert watched_kind(tmp_path / ".newsletter-tmp-1-x.pdf", options) is None


FOREIGN_PAGE = """<!DOCTYPE html><html><body>
<form id="form" method="post" action="{url}/fit" enctype="text/plain"><input name="a" value="b"></form>
<script>
(async () => {{
  const tries = [
    ["{url}/fit", {{ method: "POST", mode: "no-cors", body: "x", headers: {{ "Content-Type": "text/plain" }} }}],
    ["{url}/fit", {{ method: "POST", headers: {{ "X-Newsletter-Token": "a guess" }} }}],
    ["{url}/view", {{}}],
  ];
  const results = [];
  for (const [address, init] of tries) {{
    try {{ const answer = await fetch(address, init); results.push(answer.type + " " + answer.status); }}
    catch (error) {{ results.push("failed"); }}
  }}
  window.__results = results;
}})();
</script></body></html>"""


def test_another_sites_page_can_neither_fit_nor_read(browser: Any, tmp_path: Path) -> None:
    """The attack itself: a page of another origin (another port of this machine) in the
    editor's browser posts the fit as a form and with fetch, and reads the view."""
    import http.server
    import threading

    folder = tmp_path / "copyfit"
    shutil.copytree(FIXTURES / "copyfit", folder)
    issue = folder / "spill.yaml"
    before = issue.read_bytes()
    with serving(ServeOptions(issue, port=0)) as url:
        page_html = FOREIGN_PAGE.format(url=url).encode("utf-8")

        class Foreign(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page_html)

            def log_message(self, *args: Any) -> None:
                pass

        foreign = http.server.HTTPServer((HOST, 0), Foreign)
        threading.Thread(target=foreign.serve_forever, daemon=True).start()
        tab = browser.new_page()
        try:
            tab.goto(f"http://{HOST}:{foreign.server_address[1]}/")
            tab.wait_for_function("Array.isArray(window.__results)", timeout=WAIT_MS)
            # Each fails in the browser: the no-cors post is answered without a resource policy
            # that lets another site have it, the header's preflight is refused, no CORS.
            assert tab.evaluate("window.__results") == ["failed", "failed", "failed"]
            with tab.expect_navigation(timeout=WAIT_MS):
                tab.evaluate("document.getElementById('form').submit()")
            assert tab.url == f"{url}/fit"
            assert "refused" in tab.inner_text("body")
        finally:
            tab.close()
            foreign.shutdown()
            foreign.server_close()
    # The real fit would have written `new_page: false` into this issue.
    assert issue.read_bytes() == before
