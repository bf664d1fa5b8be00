"""The environment's failures end a send with exit 4 and a plain message naming the file or
folder, never a traceback, with nothing half-written; every input is checked before it is read.

A full disk is a file-size limit (``RLIMIT_FSIZE``) on a child process: its writes past the
limit fail as a full disk's do. A read-only folder is ``chmod`` for an ordinary user, and the
immutable attribute for root (whom permissions do not stop).
"""

# The server and edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from mailkit import Faults, Handler, _recipients, send_args
from typer.testing import CliRunner, Result

from newsletter import cli
from newsletter.errors import IssueError
from newsletter.send.plan import plan
from newsletter.send.recipients import load_recipients
from newsletter.shipped import Layout

EXIT_ENV = cli.EXIT_ENVIRONMENT


def _send(issue: Path, recipients: Path, *extra: object) -> Result:
    return CliRunner().invoke(cli.app, ["send", str(issue), "--to", str(recipients), *map(str, extra)])


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    """Three posts and a server where nothing listens: only dry runs and refusals use it."""
    return _recipients(tmp_path, 3, 1, french_every=0)


def _no_temporaries(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if p.name.startswith((".newsletter-tmp-", ".newsletter-probe-"))]


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder that cannot be written, even by root."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode != 0:
        pytest.skip("running as root where the immutable attribute cannot be set: no folder is read-only")
    yield folder
    subprocess.run(["chattr", "-i", str(folder)], check=True)


def _limited(limit: int) -> None:
    """In the child: files may grow to ``limit`` bytes, as on a disk that is full beyond."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _child(args: list[str], limit: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
        preexec_fn=(lambda: _limited(limit)) if limit else None,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
    )


@pytest.mark.parametrize("where", ["a file", "/proc", "/sys/newsletter-out", "read-only"])
def test_an_output_folder_that_cannot_be_written(
    where: str, mail_issue: Path, posts: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if where == "a file":
        folder = tmp_path / "out"
        folder.write_text("not a folder", encoding="utf-8")
    elif where == "read-only":
        folder = request.getfixturevalue("read_only")
    else:
        folder = Path(where)
    for extra in (["--dry-run"], ["--yes"]):
        result = _send(mail_issue, posts, "--out", folder, *extra)
        assert result.exit_code == EXIT_ENV, result.output
        assert f"error: {folder}: " in result.output and "nothing was sent" in result.output
        assert "Traceback" not in result.output
    if where == "a file":
        assert folder.read_text(encoding="utf-8") == "not a folder"
    elif where == "read-only":
        assert list(folder.iterdir()) == []


def test_an_output_folder_that_fills_up(mail_issue: Path, posts: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _child(["send", str(mail_issue), "--to", str(posts), "--out", str(out), "--dry-run"], limit=20_000)
    assert done.returncode == EXIT_ENV, done.stderr
    assert "File too large" in done.stderr and "Traceback" not in done.stderr
    assert not list(out.glob("*.pdf")), "no half-written edition"
    _no_temporaries(out)


def test_a_disk_filling_under_the_ledger_stops_the_send_and_loses_nothing(
    server: tuple[Handler, int, Faults], mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, _ = server
    recipients = _recipients(tmp_path, 30, port, french_every=0)
    command = send_args(mail_issue, recipients, out, ca_file)
    ledger = out / "mail" / "ledger.sqlite"
    started = time.monotonic()
    full = _child(command, limit=150_000)
    assert time.monotonic() - started < 30, "stopped at once, without waiting on the server"
    assert full.returncode == EXIT_ENV, full.stdout + full.stderr
    assert f"error: {ledger}: cannot write the ledger" in full.stderr
    assert "rollback" not in full.stderr and "Traceback" not in full.stderr
    assert "the run stopped: the ledger could not be written" in full.stdout, full.stdout
    first = len(handler.received)
    assert 0 < first < 30
    with sqlite3.connect(ledger) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        unknown = {row[0] for row in db.execute("SELECT message_id FROM messages WHERE state = 'sending'")}
    db.close()
    again = _child(command)
    assert again.returncode == 0, again.stdout + again.stderr
    counts = handler.ids()
    assert len(counts) == 30, "every post has it"
    assert {mid for mid, n in counts.items() if n > 1} <= unknown, (
        "only a message handed over and not recorded twice"
    )


def test_a_ca_file_that_is_missing_garbage_or_a_folder(mail_issue: Path, posts: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    for ca_path, code, words in [
        (tmp_path / "missing.pem", EXIT_ENV, "no such CA certificate file"),
        (garbage, EXIT_ENV, f"error: {garbage}: no CA certificate could be read from it"),
        (tmp_path, cli.EXIT_USAGE, "is a folder, not a CA certificate file"),
    ]:
        result = _send(mail_issue, posts, "--out", out, "--ca-file", ca_path, "--yes")
        assert result.exit_code == code and words in result.output, result.output
    assert not out.exists(), "refused before anything was built"


@pytest.mark.parametrize("kind", ["garbage", "folder", "empty"])
def test_a_ledger_that_cannot_be_read_is_never_rebuilt(
    kind: str, mail_issue: Path, posts: Path, out: Path
) -> None:
    ledger = out / "mail" / "ledger.sqlite"
    ledger.parent.mkdir(parents=True)
    if kind == "folder":
        ledger.mkdir()
    else:
        ledger.write_bytes(b"SQLite format 2\0" + b"\xff" * 3000 if kind == "garbage" else b"")
    before = ledger.read_bytes() if kind != "folder" else None
    for command in (
        ["send", str(mail_issue), "--to", str(posts), "--out", str(out), "--yes"],
        ["status", str(mail_issue), "--out", str(out)],
    ):
        result = CliRunner().invoke(cli.app, command)
        assert result.exit_code == EXIT_ENV, result.output
        assert f"error: {ledger}: the ledger " in result.output and "never rebuilt" in result.output
    if before is not None:
        assert ledger.read_bytes() == before
    assert sorted(p.name for p in ledger.parent.iterdir()) == ["ledger.sqlite"], "nothing made beside it"


def test_a_truncated_stamp_is_rebuilt(mail_issue: Path, posts: Path, out: Path) -> None:
    stamp = out / "issue-email.pdf.json"
    text = stamp.read_text(encoding="utf-8")
    stamp.write_text(text[: len(text) // 2], encoding="utf-8")
    result = _send(mail_issue, posts, "--out", out, "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(stamp.read_text(encoding="utf-8"))["pages"] >= 1
    _no_temporaries(out)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "missing", "symlink-loop"])
def test_an_image_is_checked_before_it_is_read(
    kind: str, mail_issue: Path, posts: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "issue"
    shutil.copytree(mail_issue.parent, folder)
    image = folder / "photo.png"
    image.unlink()
    if kind == "fifo":
        os.mkfifo(image)  # reading it would wait for a writer forever
    elif kind == "dev-zero":
        image.symlink_to("/dev/zero")  # reading it would fill the memory
    elif kind == "folder":
        image.mkdir()
    elif kind == "symlink-loop":
        image.symlink_to(folder / "loop.png")
        (folder / "loop.png").symlink_to(image)
    result = _send(folder / "issue.yaml", posts, "--out", tmp_path / "out", "--dry-run")
    assert result.exit_code == cli.EXIT_CONTENT, result.output
    assert f"{folder / 'issue.yaml'}:18:16: sections[0].blocks[1].image: image " in result.output
    assert "[image-file]" in result.output and "Traceback" not in result.output


def test_layout_files_are_checked_before_they_are_read(mail_issue: Path, tmp_path: Path) -> None:
    templates = tmp_path / "layout"
    shutil.copytree(ROOT / "layouts", templates)
    os.mkfifo(templates / "waiting.css")  # not read at all: no input of the edition
    (templates / "huge.ttf").symlink_to("/dev/zero")
    recipients = load_recipients(_recipients(tmp_path, 1, 1))
    with pytest.raises(IssueError, match=r"huge\.ttf is not a regular file.*\[layout-file\]"):
        plan(mail_issue, recipients, tmp_path / "out", layout=Layout(templates, ROOT / "fonts"))
