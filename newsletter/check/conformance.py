"""The outside judge: each edition that claims PDF/A or PDF/UA is validated by an
independent checker, ``page-validation`` (Python bindings to ``page``, a PDF/A and PDF/UA
validator written in Rust; its authors run it against the veraPDF and Isartor corpora).

Our own rules (``editions.py``) look for what the project knows it must write; this one asks
a validator that knows the standards' every clause, on the PDF as written, before it
replaces the previous edition. Each rule the validator finds failed is a finding with the
rule's id and, where the validator names an object, the page it is on. It takes about
0.05 s an edition, 0.1 s with the process it runs in (``judge``): it runs in every build,
not only in ``check``.

When the validator is not installed (a platform it has no wheel for), the edition is said
not to be validated, as a notice: never a silent pass.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf

from .output import struct_elements
from .registry import Hit, OutputContext, rule

#: The validator's profile for each standard an edition may claim (``Edition.claims``).
PROFILES = {"PDF/A-3u": "3u", "PDF/UA-1": "ua1"}

#: Plain hints for the rules an editor can act on, by a part of the rule's id; every other
#: failed rule is the build's to mend (``_REPORT``).
_HINTS = (
    ("ALTERNATIVE-TEXT", "give the image an `alt:` that says what it shows"),
    ("ALT-TEXT", "give the image an `alt:` that says what it shows"),
    ("METADATA-TITLE", "set `title:` in the issue"),
    ("LANGUAGE", "set `language:` in the issue (and `lang:` on text in another language)"),
    ("HEADING", "keep headings in order: a section's title, then its subheadings"),
)
_REPORT = "report it with the PDF: the build wrote what the standard does not allow (the message says what)"


#: What the validator's process runs: it starts (loading the validator) before it is asked,
#: reads the file and profiles from its input, and writes the failed rules of each, as JSON.
_JUDGE = r"""
import json, sys
try:
    import page
except ImportError as exc:
    print(exc, file=sys.stderr)
    sys.exit(3)
path, *profiles = json.loads(sys.stdin.readline())
verdicts = {}
for profile in profiles:
    report = page.validate_pdf(path, profile=profile)
    verdicts[profile] = [
        [f.rule_id, f.message, [f.object_id.object_number, f.object_id.generation] if f.object_id else None]
        for f in report.failures
    ]
json.dump(verdicts, sys.stdout)
"""
#: Seconds the validator may take on one edition (it takes about 0.05 s).
JUDGE_TIMEOUT = 60.0


@rule(
    "conformance",
    "output",
    "error",
    _REPORT,
    edition_only=True,
    last=True,  # the validator reads the file meanwhile (``Judge.ask``)
)
def _conformance(ctx: OutputContext) -> Iterator[Hit]:
    if not ctx.edition.claims or not validator_installed():
        return
    profiles = {PROFILES[claim]: claim for claim in ctx.edition.claims}
    started = ctx.judge if isinstance(ctx.judge, Judge) else None
    verdicts = judge(ctx.pdf_path, list(profiles), started)
    if isinstance(verdicts, str):
        yield Hit(f"the {ctx.edition.name} edition could not be validated: {verdicts}")
        return
    pages = _object_pages(ctx.pdf)
    for profile, failures in verdicts.items():
        for rule_id, message, oid in failures:
            if (
                rule_id.endswith("-STREAM-LENGTH-001")
                and oid
                and _data_ends_in_cr(ctx.pdf_path, oid[0], oid[1])
            ):
                continue  # the validator's misreading, not the file's fault (README, "Outside judges")
            page = pages.get((oid[0], oid[1])) if oid else None
            hint = next((h for part, h in _HINTS if part in rule_id), "")
            said = f"; {hint}" if hint else ""
            yield Hit(f"not {profiles[profile]}: rule {rule_id} failed: {message}{said}", page=page)


@rule(
    "conformance-unchecked",
    "output",
    "notice",
    "install the validator: pip install page-validation (it has wheels for Linux, macOS and Windows)",
    edition_only=True,
)
def _unchecked(ctx: OutputContext) -> Iterator[Hit]:
    if ctx.edition.claims and not validator_installed():
        claims = " and ".join(ctx.edition.claims)
        yield Hit(
            f"the {ctx.edition.name} edition was not validated as {claims}: page-validation is not installed"
        )


def validator_installed() -> bool:
    """Whether the validator can be found (without loading it in this process)."""
    return importlib.util.find_spec("page") is not None


class Judge:
    """The validator's process, started before its verdict is wanted: a build starts it with
    the build (``Judge.started``), so that the interpreter and the validator load on the
    machine's other core while the issue is laid out, and the verdict then takes the
    validation's own 0.04 s instead of 0.1 s. One verdict per process."""

    def __init__(self, process: subprocess.Popen[str] | None) -> None:
        self._process = process
        #: The question sent ahead (``ask``), if any.
        self._asked: list[str] | None = None

    @classmethod
    def started(cls) -> Judge:
        """The validator's process, loading; a ``Judge`` that says why if it cannot start."""
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", _JUDGE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError:
            process = None
        return cls(process)

    def ask(self, pdf_path: Path, claims: tuple[str, ...]) -> None:
        """Send the question now, for the standards ``claims`` names: the validator reads the
        file while this process reads it back and runs its other rules; ``verdicts`` then
        takes the answer."""
        process = self._process
        if process is None or self._asked is not None or process.stdin is None:
            return
        request = [str(pdf_path), *(PROFILES[claim] for claim in claims)]
        try:
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.close()
        except OSError:  # it ended before reading: ``verdicts`` says why
            pass
        process.stdin = None  # closed: ``communicate`` then only reads the answer
        self._asked = request

    def verdicts(self, pdf_path: Path, profiles: list[str]) -> dict[str, list[Any]] | str:
        """The failed rules of ``pdf_path`` by profile, or why the validator could not say."""
        process, self._process = self._process, None
        if process is None:
            return "the validator's process could not be started"
        asked, request = self._asked, [str(pdf_path), *profiles]
        if asked is not None and asked != request:  # asked of another file: a new process
            process.kill()
            process.communicate()
            return Judge.started().verdicts(pdf_path, profiles)
        try:
            out, err = process.communicate(
                None if asked is not None else json.dumps(request) + "\n", timeout=JUDGE_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return f"the validator gave no answer in {JUDGE_TIMEOUT:.0f} s"
        except OSError as exc:  # it ended before reading (a crash at start)
            process.wait()
            return f"the validator failed ({exc})"
        if process.returncode != 0:
            said = err.strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
            return f"the validator failed ({said[0][:200]})"
        try:
            found: dict[str, list[Any]] = json.loads(out)
        except ValueError:
            return "the validator's answer could not be read"
        return found

    def close(self) -> None:
        """Stop the process if its verdict was never asked for (a build that failed first)."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.communicate()


def judge(pdf_path: Path, profiles: list[str], started: Judge | None = None) -> dict[str, list[Any]] | str:
    """The validator's failed rules by profile, or why it could not say; from ``started``
    when the caller started the validator's process beforehand.

    It runs in a process of its own: it starts threads (Rust's rayon), and a process that
    has them and forks afterwards (the parallel builds of ``--variant all``) hangs in the
    child; a crash of a young validator stays out of the build, too. About 0.1 s, of which
    0.06 s is the process's start.
    """
    return (started or Judge.started()).verdicts(pdf_path, profiles)


def _data_ends_in_cr(pdf_path: Path, number: int, generation: int) -> bool:
    """Whether the stream object ``number`` is written right (its ``/Length`` bytes, then an
    end-of-line, then ``endstream``) with data that ends with a carriage return.

    ISO 19005-2 and -3, 6.1.7.1: ``/Length`` counts the bytes "following the LINE FEED
    character after the stream keyword and preceding the EOL marker before the endstream
    keyword". Data ending with CR, then LF, then ``endstream`` meets it; page-validation
    0.11 reads ``CR LF`` as the end-of-line and finds one byte less. The finisher keeps our
    own streams clear of it (``press/finishing.py``); the object and cross-reference streams
    the PDF writer makes last, one in 128 builds, meet it.
    """
    data = pdf_path.read_bytes()
    found = re.search(rb"(?:^|[\r\n])%d %d obj\s*<<" % (number, generation), data)
    if found is None:
        return False
    start = data.find(b"stream", found.end())
    length = re.search(rb"/Length (\d+)", data[found.end() : start])
    if start < 0 or length is None:
        return False
    begin = start + len(b"stream") + (2 if data[start + 6 : start + 8] == b"\r\n" else 1)
    end = begin + int(length[1])
    return data[end - 1 : end] == b"\r" and data[end : end + 10] in (b"\nendstream", b"\r\nendstrea")


def _object_pages(pdf: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    """The page each page object, annotation and structure element is on, by object id."""
    found: dict[tuple[int, int], int] = {}
    numbers = {}
    for number, page in enumerate(pdf.pages, start=1):
        found[page.obj.objgen] = number
        numbers[page.obj.objgen] = number
        for annotation in page.obj.get("/Annots", ()):
            found[annotation.objgen] = number
    tree = pdf.Root.get("/StructTreeRoot")
    for element in struct_elements(tree) if isinstance(tree, pikepdf.Dictionary) else ():
        page_ref = element.get("/Pg")
        if page_ref is not None and page_ref.objgen in numbers and element.objgen != (0, 0):
            found[element.objgen] = numbers[page_ref.objgen]
    return found
