"""Hostile input: nothing read outside the project, nothing fetched, nothing embedded."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from conftest import ROOT, edit, layout_copy

from newsletter.build import build_issue
from newsletter.engine.typesetter import ProjectFetcher, RefusedURL, typeset
from newsletter.errors import IssueError

SECRET = "SECRET-7f3a9c-do-not-print"


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[int, type[_CountingHandler]]]:
    """An HTTP server on loopback that counts the requests it gets."""
    handler = type("Handler", (_CountingHandler,), {"hits": 0})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET, encoding="utf-8")
    return path


def _refused(issue: Path) -> str:
    """Build ``issue``, which must fail its checks, and return what the failure says."""
    with pytest.raises(IssueError) as info:
        build_issue(issue, issue.parent / "out")
    return str(info.value)


def test_hostile_text_is_printed_not_obeyed(minimal: Path, secret: Path, listener: tuple[int, type]) -> None:
    port, handler = listener
    payload = (
        f"<link rel=attachment href=file://{secret}> "
        f'<img src="http://127.0.0.1:{port}/x"> '
        f"<style>@import url(file://{secret});</style> "
        f"![x](http://127.0.0.1:{port}/y) "
        f"<iframe src=file://{secret}></iframe>"
    )
    edit(minimal, "A lead paragraph.", "'" + payload.replace("'", "''") + "'")
    result = build_issue(minimal, minimal.parent / "out")
    with pikepdf.open(result.pdf) as pdf:
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})
        assert not pdf.attachments
    data = result.pdf.read_bytes()
    assert SECRET.encode() not in data
    assert handler.hits == 0


def test_image_path_leaving_the_issue_folder_is_refused(minimal: Path, secret: Path) -> None:
    shutil.copy(minimal.parent / "photo.png", secret.parent / "photo.png")
    edit(minimal, "image: photo.png", "image: ../outside/photo.png")
    text = _refused(minimal)
    assert (
        "sections[0].blocks[1].image: image '../outside/photo.png' must be a file inside the issue's folder"
        in text
    )
    assert ":18:16:" in text


def test_symlink_pointing_outside_is_refused(minimal: Path, secret: Path) -> None:
    shutil.copy(minimal.parent / "photo.png", secret.parent / "photo.png")
    (minimal.parent / "link.png").symlink_to(secret.parent / "photo.png")
    edit(minimal, "image: photo.png", "image: link.png")
    with pytest.raises(IssueError, match="image 'link.png' must be a file inside the issue's folder"):
        build_issue(minimal, minimal.parent / "out")


def test_absolute_and_remote_image_paths_are_refused(minimal: Path, listener: tuple[int, type]) -> None:
    port, handler = listener
    for image in (f"http://127.0.0.1:{port}/x.png", "/etc/hostname", "file:///etc/hostname"):
        edit(minimal, "image: photo.png", f"image: {image}")
        with pytest.raises(IssueError, match="must be a file inside the issue's folder"):
            build_issue(minimal, minimal.parent / "out")
        edit(minimal, f"image: {image}", "image: photo.png")
    assert handler.hits == 0


def test_unsafe_link_schemes_are_refused(minimal: Path) -> None:
    edit(minimal, "A lead paragraph.", "'[click](javascript:alert(1)) [file](file:///etc/passwd)'")
    text = _refused(minimal)
    assert (
        "link 'javascript:alert(1)' is not allowed" in text
        and "link 'file:///etc/passwd' is not allowed" in text
    )


def test_stylesheet_import_outside_the_project_is_refused(
    minimal: Path, secret: Path, tmp_path: Path
) -> None:
    css = secret.parent / "evil.css"
    css.write_text("body { color: red }", encoding="utf-8")
    layout = layout_copy(tmp_path, css_before=f'@import url("file://{css}");\n')
    with pytest.raises(IssueError, match=r"refused to load 'file://.*evil\.css': file outside"):
        build_issue(minimal, tmp_path / "out", layout=layout)
    assert not (tmp_path / "out" / "issue-email.pdf").exists()


def test_fetcher_refuses_network_and_foreign_files(
    tmp_path: Path, secret: Path, listener: tuple[int, type]
) -> None:
    port, handler = listener
    fetcher = ProjectFetcher([tmp_path / "allowed"], max_bytes=1000)
    (tmp_path / "allowed").mkdir()
    (tmp_path / "allowed" / "ok.css").write_text("p{}", encoding="utf-8")
    (tmp_path / "allowed" / "big.css").write_text("p{}" * 1000, encoding="utf-8")
    (tmp_path / "allowed" / "escape").symlink_to(secret.parent)
    assert fetcher.fetch((tmp_path / "allowed" / "ok.css").as_uri()).read() == b"p{}"
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    for url, reason in [
        (f"http://127.0.0.1:{port}/x", "never the network"),
        (f"https://127.0.0.1:{port}/x", "never the network"),
        ("ftp://127.0.0.1/x", "never the network"),
        (secret.as_uri(), "outside"),
        ((tmp_path / "allowed" / "escape" / "secret.txt").as_uri(), "outside"),
        ((tmp_path / "allowed" / ".." / "outside" / "secret.txt").as_uri(), "outside"),
        ((tmp_path / "allowed" / "big.css").as_uri(), "size limit"),
    ]:
        with pytest.raises(RefusedURL, match=reason):
            fetcher.fetch(url)
    assert handler.hits == 0


def test_attachment_link_in_a_layout_is_refused(minimal: Path, secret: Path, tmp_path: Path) -> None:
    html = f'<html><head><link rel="attachment" href="{(tmp_path / "a.txt").as_uri()}"></head><body>x</body></html>'
    (tmp_path / "a.txt").write_text("attached", encoding="utf-8")
    with pytest.raises(IssueError, match="may not be attached"):
        typeset(html, tmp_path, [tmp_path], tmp_path / "x.yaml")


def test_unprintable_characters_are_refused_with_location(minimal: Path) -> None:
    edit(minimal, "A lead paragraph.", '"Bell \\a and a Chinese \u4e2d and an emoji \U0001f600"')
    text = _refused(minimal)
    assert ":8:9: cover.lead:" in text and "U+0007 cannot be printed" in text


def test_glyphs_missing_from_the_fonts_are_refused(minimal: Path) -> None:
    edit(minimal, "A lead paragraph.", "A lead with 中 and 😀.")
    assert "cover.lead: the bundled fonts cannot print '中' (U+4E2D), '😀' (U+1F600)" in _refused(minimal)


def test_pathological_layout_stops_at_the_time_limit(minimal: Path) -> None:
    paragraph = "Many words in a very long text that runs over many pages. " * 15
    edit(minimal, "      - Back to the first section, [page](#first).\n", f"      - {paragraph}\n" * 400)
    started = time.perf_counter()
    with pytest.raises(IssueError, match=r"longer than 0.3 s.*\[time-limit\]"):
        build_issue(minimal, minimal.parent / "out", time_limit=0.3)
    assert time.perf_counter() - started < 5
    assert not (minimal.parent / "out" / "issue-email.pdf").exists()


def test_killed_build_keeps_previous_pdf(issue_copy: Path, tmp_path: Path) -> None:
    """SIGKILL in the middle of writing: the old PDF survives, the next build cleans up."""
    out = tmp_path / "out"
    first = build_issue(issue_copy, out)
    before = first.pdf.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "build", str(issue_copy), "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob(".newsletter-tmp-*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    killed_while_writing = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert killed_while_writing, "the build finished before it could be killed half way"
    assert list(out.glob(".newsletter-tmp-*")), "the killed build left its temporary file"
    assert first.pdf.read_bytes() == before
    with pikepdf.open(first.pdf) as pdf:
        assert len(pdf.pages) == 12
    build_issue(issue_copy, out)
    assert not list(out.glob(".newsletter-tmp-*"))


def test_local_system_font_never_reaches_the_pdf(minimal: Path, tmp_path: Path) -> None:
    """A layout asking for a system font through local() fails instead of shipping it.

    WeasyPrint resolves local() to the font's file and fetches it: our fetcher refuses it.
    Pango's own fallback for missing glyphs is closed by the glyph check at load and by the
    check of the written PDF's fonts (see test_glyphs_missing_from_the_fonts_are_refused).
    """
    css = '@font-face { font-family: "Sys"; src: local("DejaVu Sans"); }\nhtml, .cover-lead { font-family: "Sys" !important; }\n'
    layout = layout_copy(tmp_path, css_before=css)
    with pytest.raises(IssueError, match=r"refused to load 'file:///.*DejaVuSans.*': file outside"):
        build_issue(minimal, tmp_path / "out", layout=layout)
    assert not (tmp_path / "out" / "issue-email.pdf").exists()


def test_system_font_by_generic_family_fails_the_build(minimal: Path, tmp_path: Path) -> None:
    """Pango resolves generic families through the system's fontconfig: the PDF check stops it."""
    layout = layout_copy(tmp_path, css_before=".cover-lead { font-family: monospace !important; }\n")
    with pytest.raises(
        IssueError, match=r"text set in 'monospace', a font family that is not bundled \(page 1\) \[glyphs\]"
    ):
        build_issue(minimal, tmp_path / "out", layout=layout)
    assert not (tmp_path / "out" / "issue-email.pdf").exists()
    assert not list((tmp_path / "out").glob(".newsletter-tmp-*"))


def test_anchor_attachment_link_is_refused_before_writing(minimal: Path, tmp_path: Path) -> None:
    """``<a rel=attachment>`` would embed a file when the PDF is written: refused at layout."""
    html = '<html><body><p><a rel="attachment" href="photo.png">the photo</a></p></body></html>'
    with pytest.raises(IssueError, match=r"files may not be attached to the PDF \(1 attachment links\)"):
        typeset(html, minimal.parent, [minimal.parent], minimal)


def test_corrupt_images_are_refused_at_their_field(minimal: Path) -> None:
    """A PNG whose chunks are valid but whose pixel data is garbage, and a truncated JPEG,
    open without complaint: every pixel is decoded before layout."""
    import io
    import struct
    import zlib

    from PIL import Image

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    garbage = b"\x78\x9c" + os.urandom(300)  # a zlib header, then noise
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", garbage) + chunk(b"IEND", b"")
    (minimal.parent / "photo.png").write_bytes(png)
    with pytest.raises(IssueError) as info:
        build_issue(minimal, minimal.parent / "out")
    found = [f for f in info.value.findings if f.rule == "image-file"]
    assert found and "cannot be read (truncated or corrupt?)" in found[0].message
    assert found[0].line is not None and found[0].field.endswith(".image")

    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "navy").save(buffer, "JPEG")
    (minimal.parent / "photo.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    edit(minimal, "image: photo.png", "image: photo.jpg")
    with pytest.raises(IssueError, match=r"image 'photo.jpg' cannot be read \(truncated or corrupt\?\)"):
        build_issue(minimal, minimal.parent / "out")


def test_a_full_disk_during_layout_is_the_environment(minimal: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint writes temporary font files while laying out: a full disk there is exit 4."""
    import errno

    from typer.testing import CliRunner

    import newsletter.build
    from newsletter import cli

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(newsletter.build, "paginate", full)
    result = CliRunner().invoke(cli.app, ["build", str(minimal), "--out", str(minimal.parent / "out")])
    assert result.exit_code == cli.EXIT_ENVIRONMENT, result.output
    assert "No space left on device" in result.output and "this is a bug" not in result.output
