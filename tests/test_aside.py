"""Work done aside (``newsletter/aside.py``): a function run in a forked child gives what it
gives in line, a failing or dying child costs nothing but the time, and a cold build whose
checks run aside finds exactly what it finds with them run in turn.

The test runner's process has other threads (pytest-xdist), where nothing forks: the forks
are tried in a child Python of their own (``_python``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from newsletter.aside import Aside, aside

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


#: Put before the code ``_python`` runs: every child forked lands in ``forks``.
_COUNTING_FORKS = """
import os
forks = []
real_fork = os.fork
def counted_fork():
    pid = real_fork()
    if pid:
        forks.append(pid)
    return pid
os.fork = counted_fork
"""


def _python(code: str, timeout: float = 240) -> str:
    """Run ``code`` in a fresh, single-threaded Python, the forks counted
    (``_COUNTING_FORKS``); what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", _COUNTING_FORKS + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_child_gives_the_result_and_is_reaped() -> None:
    out = _python(
        """
        import os
        from newsletter.aside import aside
        job = aside(lambda n: (os.getpid(), [n] * 3), 7)
        child, value = job.result()
        print(len(forks), child == forks[0], child != os.getpid(), value)
        try:
            os.waitpid(forks[0], os.WNOHANG)
            print("not reaped")
        except ChildProcessError:
            print("reaped")
        """
    )
    assert out.split("\n")[:2] == ["1 True True [7, 7, 7]", "reaped"]


def test_a_child_slow_to_exit_after_sending_still_counts() -> None:
    """The pipe's end is read before the child has exited (a loaded machine): it is waited
    for, not killed, and its result is taken (a race that made the parent compute again)."""
    out = _python(
        """
        import os, time
        from newsletter.aside import aside
        real_exit = os._exit
        os._exit = lambda status: (time.sleep(0.5), real_exit(status))
        parent = os.getpid()
        print(aside(os.getpid).result() != parent)
        """
    )
    assert out.strip() == "True"


def test_what_fails_in_the_child_is_met_in_line() -> None:
    out = _python(
        """
        import os
        from newsletter.aside import aside
        parent = os.getpid()
        def fails_there():
            if os.getpid() != parent:
                raise RuntimeError("in the child")
            return "computed here"
        def dies_there():
            if os.getpid() != parent:
                os.kill(os.getpid(), 9)
            return "computed here after a death"
        def unpicklable():
            return (lambda: None) if os.getpid() != parent else "computed here, unpicklable there"
        def raises():
            raise ValueError("the same everywhere")
        for func in (fails_there, dies_there, unpicklable):
            print(aside(func).result())
        try:
            aside(raises).result()
        except ValueError as exc:
            print("raised:", exc)
        """
    )
    assert out.splitlines() == [
        "computed here",
        "computed here after a death",
        "computed here, unpicklable there",
        "raised: the same everywhere",
    ]


def test_a_result_larger_than_a_pipe_and_ready() -> None:
    out = _python(
        """
        import time
        from newsletter.aside import aside
        job = aside(lambda: b"x" * 5_000_000)
        while not job.ready():
            time.sleep(0.01)
        print(len(job.result()))
        """
    )
    assert out.strip() == "5000000"


def test_a_result_not_wanted_stops_its_child() -> None:
    out = _python(
        """
        import os, time
        from newsletter.aside import aside
        job = aside(time.sleep, 60)
        pid = job._pid
        started = time.monotonic()
        job.close()
        print(pid is not None, time.monotonic() - started < 5)
        try:
            os.kill(pid, 0)
            print("alive")
        except ProcessLookupError:
            print("gone")
        """
    )
    assert out.split() == ["True", "True", "gone"]


def test_in_a_threaded_process_nothing_forks() -> None:
    # This process has pytest-xdist's threads, or not: either way a function that cannot
    # run in a child (it reads this process's memory after the call) gives the same.
    box = [1]
    job = aside(lambda: sum(box))
    box.append(2)
    assert job.result() in (1, 3)
    assert Aside(lambda: 5, (), fork=False).result() == 5


#: Fixtures whose findings come from every stage: content errors (one mistake of each kind,
#: a reference to nowhere), layout errors, output findings, and a clean issue.
SAME_FINDINGS = [
    ROOT / "issues" / "issue-10.yaml",
    FIXTURES / "bad" / "bad_every_kind.yaml",
    FIXTURES / "bad" / "bad_unknown_ref.yaml",
    FIXTURES / "check" / "overflow.yaml",
    FIXTURES / "check" / "overfull-line.yaml",
    FIXTURES / "check" / "frame-overflow.yaml",
    FIXTURES / "check" / "section-bleed.yaml",
    FIXTURES / "check" / "size-budget.yaml",
    FIXTURES / "check" / "unknown-reference.yaml",
    FIXTURES / "minimal" / "issue.yaml",
]


@pytest.mark.parametrize("edition", ["email", "archive"])
def test_checks_run_aside_find_what_they_find_in_turn(edition: str) -> None:
    """A cold build forks its content and layout checks; the same build with forking turned
    off runs them in turn. Both give the same findings, in the same order, for each fixture."""
    paths = json.dumps([str(p) for p in SAME_FINDINGS])
    out = _python(
        f"""
        import json
        from pathlib import Path
        import newsletter.aside as aside
        from newsletter.build import check_issue
        report = {{}}
        for path in json.loads({paths!r}):
            forks.clear()
            aside.single_threaded = lambda: True
            forked = [f.as_dict() for f in check_issue(Path(path), edition={edition!r})]
            made = len(forks)
            aside.single_threaded = lambda: False
            in_turn = [f.as_dict() for f in check_issue(Path(path), edition={edition!r})]
            report[path] = [made, forked == in_turn, len(forked), len(forks) == made]
        print(json.dumps(report))
        """
    )
    report = json.loads(out)
    for path, (forks, same, count, none_in_turn) in report.items():
        # An issue that does not load has nothing to run aside (its fonts come from the cache).
        assert forks >= 1 or "bad_every_kind" in path, f"{path}: nothing was run aside"
        assert none_in_turn, f"{path}: forked with forking off"
        assert same, f"{path}: {count} findings aside, other findings in turn"
    assert sum(count for _, _, count, _ in report.values()) > 40


def test_a_content_error_stops_the_layout_run_aside(tmp_path: Path) -> None:
    """An issue with a content error and a long layout: the layout stops at the next part
    once the checks aside have answered, instead of laying out every part for nothing."""
    out = _python(
        f"""
        import time, yaml
        from pathlib import Path
        import newsletter.engine.typesetter as typesetter
        from newsletter.build import check_issue
        source = Path({str(ROOT / "issues" / "issue-10.yaml")!r})
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        data["sections"][0]["blocks"].append("See the agenda on [page](#nowhere).")
        copy = Path({str(tmp_path)!r}) / "issues"
        import shutil
        shutil.copytree(source.parent, copy)
        target = copy / "issue-10.yaml"
        target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        parts = []
        real = typesetter.Typesetter.lay_out
        def counted(self, *args, **kwargs):
            parts.append(1)
            time.sleep(0.3)
            return real(self, *args, **kwargs)
        typesetter.Typesetter.lay_out = counted
        found = check_issue(target)
        print(len(parts), sorted({{f.rule for f in found if f.severity == "error"}}))
        """
    )
    parts, rules = out.split(" ", 1)
    assert "unknown-reference" in rules
    assert int(parts) < 11, f"{parts} parts laid out after the content had failed"


def test_a_build_leaves_no_temporary_font_folder(tmp_path: Path) -> None:
    """WeasyPrint writes the fonts to a temporary folder (5 MB) and removes it in a finalizer
    that does not run at exit: every build process left one behind."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsletter",
            "build",
            str(FIXTURES / "minimal" / "issue.yaml"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temporary)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 240
    assert list(temporary.iterdir()) == []
