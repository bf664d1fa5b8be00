"""Resuming and correcting: the printed resume command runs as printed (``--yes``); a post
refused for good (5xx) is not sent again without ``--retry-refused``; a post deferred (4xx) is
tried again at once, without the first run's waits; a second correction of one language
reaches that language's posts; a dry run on a full disk leaves nothing half-written."""

# The server and edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import errno
import os
import shlex
import shutil
import time
from pathlib import Path

import pytest
from conftest import edit
from mailkit import Faults, Handler, _recipients, _settings, run_cli, send_args
from typer.testing import Result

from newsletter import cli
from newsletter.send.ledger import Ledger
from newsletter.send.loop import Retry
from newsletter.send.plan import deliver, plan
from newsletter.send.recipients import load_recipients

Server = tuple[Handler, int, Faults]


def _resume_words(output: str) -> list[str]:
    """The arguments of the resume command a report printed (without ``newsletter``)."""
    (line,) = [line for line in output.splitlines() if line.startswith("to resume: ")]
    words = shlex.split(line.removeprefix("to resume: ").split(" (only ", 1)[0])
    assert words[:2] == ["newsletter", "send"], line
    return words[1:]


def test_a_post_refused_for_good_is_skipped_on_resume_until_retry_refused(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, faults = server
    faults.reject.add("post002@example.org")  # 550
    recipients = _recipients(tmp_path, 4, port, french_every=0)
    first = run_cli(*send_args(mail_issue, recipients, out, ca_file))
    assert first.exit_code == cli.EXIT_CONTENT, first.output
    assert "sent 3 (and 0 sent before), deferred 0, failed 1" in first.output
    assert "the 1 posts refused for good (a 5xx reply) only with --retry-refused)" in first.output
    resume = _resume_words(first.output)
    assert resume[-1] == "--yes", "a resume command that runs where nothing can confirm"

    faults.reject.clear()  # refused for good: the server is not asked again
    again = run_cli(*resume)  # as printed, with no terminal
    assert again.exit_code == cli.EXIT_CONTENT, again.output
    assert "4 posts, 0 to send now (3 sent before; 1 refused for good before" in again.output
    assert (
        "nothing to send: the 1 posts that do not have it refused it for good (a 5xx reply); "
        "add --retry-refused to send to them again"
    ) in again.output
    assert len(handler.envelopes) == 3
    status = run_cli("status", mail_issue, "--out", out)
    assert "(refused for good: `send` tries it again only with --retry-refused)" in status.output

    retried = run_cli(*resume, "--retry-refused")
    assert retried.exit_code == 0, retried.output
    assert [e[0] for e in handler.envelopes] == [f"post00{i}@example.org" for i in (0, 1, 3, 2)]
    assert set(handler.ids().values()) == {1}, "each post once"


def test_a_deferred_post_is_tried_again_on_resume_without_the_waits(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, faults = server
    faults.defer.add("post001@example.org")  # 452, mailbox full, for days
    faults.reject.add("post002@example.org")
    recipients = _recipients(tmp_path, 3, port, french_every=0)
    ledger = out / "mail" / "ledger.sqlite"
    the_plan = plan(mail_issue, load_recipients(recipients), out)
    started = time.monotonic()
    run = deliver(the_plan, _settings(port, ca_file), ledger, retry=Retry(attempts=4, first_delay=0.2))
    first = time.monotonic() - started
    deferred = run.outcomes[1]
    assert deferred.state == "deferred" and deferred.attempts == 4
    assert first >= 0.2 + 0.4 + 0.8, "the first run waits between its attempts"

    # The command line's waits are 2, 4 and 8 s: a resume that waited would take 2 s at least.
    started = time.monotonic()
    resumed = run_cli(*send_args(mail_issue, recipients, out, ca_file))
    elapsed = time.monotonic() - started
    assert resumed.exit_code == cli.EXIT_CONTENT, resumed.output
    assert elapsed < 2.0, f"the resume took {elapsed:.1f} s"
    assert "sent 0 (and 1 sent before), deferred 1, failed 0" in resumed.output
    assert "refused for good before and not tried again 1" in resumed.output
    with Ledger(ledger) as book:
        entry = book.get("test-series-7", "post-001")
        assert entry is not None and entry.state == "deferred" and entry.attempts == 5, "one more attempt"
    assert [e[0] for e in handler.envelopes] == ["post000@example.org"], "the refused one not asked again"

    faults.defer.clear()
    last = run_cli(*send_args(mail_issue, recipients, out, ca_file))
    assert last.exit_code == cli.EXIT_CONTENT and "sent 1 (and 1 sent before)" in last.output
    assert set(handler.ids().values()) == {1}
    print(
        f"\n[figure] 452 on resume: first run {first:.2f} s (waits 0.2+0.4+0.8 s), the resume {elapsed:.2f} s"
    )


def test_a_dry_run_on_a_full_disk_leaves_no_half_written_message(
    mail_issue: Path, tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipients = _recipients(tmp_path, 4, 1, french_every=0)
    real_write = os.write
    writes: list[int] = []

    def full(fd: int, data: bytes) -> int:
        writes.append(fd)
        if len(writes) < 3:
            return real_write(fd, data)
        if len(writes) == 3:  # the third message: half of it fits
            return real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    result = run_cli("send", mail_issue, "--to", recipients, "--out", out, "--dry-run")
    monkeypatch.undo()
    folder = out / "mail" / "test-series-7"
    assert result.exit_code == cli.EXIT_ENVIRONMENT, result.output
    assert f"error: {folder / 'post-002.eml'}: cannot write: No space left on device" in result.output
    assert "fix: free some space or choose another folder with --out" in result.output
    assert "nothing was sent" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["post-000.eml", "post-001.eml"], "no .eml.tmp left"
    again = run_cli("send", mail_issue, "--to", recipients, "--out", out, "--dry-run")
    assert again.exit_code == 0, again.output
    assert len(list(folder.glob("*.eml"))) == 4 and not list(folder.glob("*.tmp"))


def test_a_second_correction_of_one_language_reaches_its_posts(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, _ = server
    folder = tmp_path / "issue"
    shutil.copytree(mail_issue.parent, folder)
    issue = folder / "issue.yaml"
    recipients = _recipients(tmp_path, 4, port, french_every=2)  # posts 0 and 2 French, 1 and 3 English
    assert run_cli(*send_args(issue, recipients, out, ca_file)).exit_code == 0

    def correction(revision: int) -> tuple[Result, dict[str, str]]:
        handler.received.clear()
        result = run_cli(*send_args(issue, recipients, out, ca_file), "--revision", revision)
        assert result.exit_code == 0, result.output
        return result, {m["To"].split("@")[0]: m["References"] for m in handler.received}

    edit(issue, "A paragraph.", "A corrected paragraph.")
    english, got = correction(2)
    assert sorted(got) == ["post001", "post003"]
    assert "2 posts get the fr edition, unchanged since revision 1: no correction for them" in english.output

    edit(folder / "issue.fr.yaml", "Un paragraphe.", "Un paragraphe corrigé.")
    french, got = correction(3)  # was: "their editions are unchanged" (exit 2)
    assert got == {
        "post000": "<newsletter.test-series-7.post-000@example.org>",
        "post002": "<newsletter.test-series-7.post-002@example.org>",
    }, "the French posts, referring to the revision they had"
    assert "2 posts get the en edition, unchanged since revision 2: no correction for them" in french.output

    edit(folder / "issue.fr.yaml", "Un paragraphe corrigé.", "Un paragraphe corrigé deux fois.")
    again, got = correction(4)
    assert got["post000"] == (
        "<newsletter.test-series-7.post-000@example.org> <newsletter.test-series-7.r3.post-000@example.org>"
    )
    assert sorted(got) == ["post000", "post002"]
    assert "2 posts get the en edition, unchanged since revision 2" in again.output
    status = run_cli("status", issue, "--out", out)
    assert (
        "test-series-7 revision 3: sent 2" in status.output
        and "test-series-7 revision 4: sent 2" in status.output
    )
