"""What a build found, kept beside its PDF, so that ``check`` right after it answers at once.

A build that writes an edition also writes ``out/.<issue>-<edition>.check.json``: its
findings, how full its pages are, the digest of the PDF it wrote, and the key of everything
the findings depend on (``inputs_key``), taken before the build read any of it:

- the issue file's bytes, and every file of the issue's folder (its other languages, its
  images) and of the layout's and fonts' folders, by name, size and time;
- the code: this package's files and every installed distribution's name and version;
- the issue's path as given (findings name their file so), the edition, ``strict``, the
  time limit, the colour bar, and today's date (rules compare dates with today).

``check`` computes the same key (a few milliseconds, without loading the layout engine) and
gives the recorded findings when the key and the PDF are those recorded; anything else (a
file saved since, another edition or option, a PDF replaced by hand, an unreadable record)
and it checks in full. A record is a cache: removing it changes nothing but the time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .editions import output_path
from .errors import Finding
from .safeio import atomic_write, read_regular

#: Version of the record's format; a record of another version is not read.
RECORD_FORMAT = 1
#: A record larger than this was not written by a build.
MAX_RECORD_BYTES = 20_000_000
#: More files than this in the issue's, the layout's, the fonts' and the package's folders
#: together, and nothing is recorded (stamping them would cost more than it saves).
MAX_FILES = 20_000
#: A PDF larger than this is not read to be compared with the record.
MAX_PDF_BYTES = 200_000_000
_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Inputs:
    """What a check's findings depend on besides the files: the edition and the options."""

    source: Path
    templates: Path
    fonts: Path
    edition: str
    strict: bool
    time_limit: float | None
    colour_bar: bool = False


@dataclass(frozen=True)
class Recorded:
    """A build's findings, and how full its pages were (``PageFill.as_dict`` each)."""

    findings: list[Finding]
    fills: list[dict[str, Any]]


def record_path(source: Path, out_dir: Path, edition: str) -> Path:
    """Where the build of ``edition`` keeps what it found: beside its PDF, hidden."""
    return out_dir / f".{source.stem}-{edition}.check.json"


def inputs_key(inputs: Inputs, out_dir: Path | None = None) -> str | None:
    """The digest of everything the findings of ``inputs`` depend on (see the module's
    docstring); files under ``out_dir`` (the build's own) are left out. None when the folders
    hold more than ``MAX_FILES`` files (an issue kept at the top of a large tree): nothing is
    then recorded or answered from a record."""
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(repr(parts).encode("utf-8", "surrogatepass") + b"\n")

    # The path as given: the findings name their file so.
    add(
        RECORD_FORMAT,
        sys.version,
        str(inputs.source),
        inputs.edition,
        inputs.strict,
        inputs.time_limit,
        inputs.colour_bar,
    )
    add(dt.date.today().isoformat())
    try:  # read as the loader reads it: a regular file, never waited on (a FIFO)
        add("issue", hashlib.sha256(read_regular(inputs.source, MAX_RECORD_BYTES)).hexdigest())
    except OSError as exc:
        add("issue unreadable", str(exc))
    skip = out_dir.resolve() if out_dir is not None else None
    counted = 0
    for folder in (inputs.source.parent, inputs.templates, inputs.fonts):
        add("folder", str(folder.resolve()))
        stamps = _stamps(folder.resolve(), skip, MAX_FILES - counted)
        if stamps is None:
            return None
        counted += len(stamps)
        for stamp in stamps:
            add(*stamp)
    code = code_key()
    if code is None:
        return None
    add("code", code)
    return digest.hexdigest()


def code_key() -> str | None:
    """The digest of the code that makes a build's results: this package's files (by name,
    size and time), every installed distribution's name and version, and Python's version.
    None when the package's folder holds more than ``MAX_FILES`` files."""
    digest = hashlib.sha256(f"{sys.version}\n".encode())

    def add(*parts: object) -> None:
        digest.update(repr(parts).encode("utf-8", "surrogatepass") + b"\n")

    add("folder", str(_PACKAGE))
    stamps = _stamps(_PACKAGE, None, MAX_FILES)
    if stamps is None:
        return None
    for stamp in stamps:
        add(*stamp)
    for entry in sys.path:  # the installed distributions, with their versions
        try:
            names = sorted(
                name for name in os.listdir(entry or ".") if name.endswith((".dist-info", ".egg-info"))
            )
        except OSError:
            continue
        add("path", entry, *names)
    return digest.hexdigest()


def _stamps(folder: Path, skip: Path | None, most: int) -> list[tuple[str, int, int]] | None:
    """Every file under ``folder`` (hidden ones and ``skip`` left out) by its name relative
    to ``folder``, size and time; None when there are more than ``most``."""
    found: list[tuple[str, int, int]] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__" and here / d != skip)
        for name in sorted(files):
            if name.startswith("."):
                continue
            try:
                info = (here / name).stat()
            except OSError:
                continue
            found.append((str((here / name).relative_to(folder)), info.st_size, info.st_mtime_ns))
            if len(found) > most:
                return None
    return found


def _pdf_digest(pdf: Path) -> str | None:
    try:
        return hashlib.sha256(read_regular(pdf, MAX_PDF_BYTES)).hexdigest()
    except OSError:
        return None


def write_record(
    path: Path, key: str, pdf: Path, findings: list[Finding], fills: list[dict[str, Any]]
) -> None:
    """Keep what the build that wrote ``pdf`` found, under ``key``."""
    record = {
        "format": RECORD_FORMAT,
        "key": key,
        "pdf": _pdf_digest(pdf),
        "findings": [_finding_dict(f) for f in findings],
        "fills": fills,
    }
    atomic_write(path, json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def recorded_check(inputs: Inputs, out_dir: Path) -> Recorded | None:
    """What the last build of ``inputs`` into ``out_dir`` found, when nothing it depends on
    changed since and its PDF is there as it wrote it; else None (check in full)."""
    path = record_path(inputs.source, out_dir, inputs.edition)
    if not path.is_file():
        return None
    key = inputs_key(inputs, out_dir)
    if key is None:
        return None
    return read_record(path, key, output_path(inputs.source, out_dir, inputs.edition))


def read_record(path: Path, key: str, pdf: Path) -> Recorded | None:
    """The findings recorded at ``path``, if they were recorded under ``key`` by the build
    that wrote ``pdf`` as it is now; None otherwise (check in full)."""
    try:
        record = json.loads(read_regular(path, MAX_RECORD_BYTES).decode("utf-8"))
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT or record.get("key") != key:
            return None
        if record.get("pdf") is None or record.get("pdf") != _pdf_digest(pdf):
            return None
        findings = [_finding(item) for item in record["findings"]]
        fills = record["fills"]
        if not isinstance(fills, list) or not all(isinstance(fill, dict) for fill in fills):
            return None
        return Recorded(findings, fills)
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def _finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "message": finding.message,
        "hint": finding.hint,
        "file": str(finding.file) if finding.file is not None else None,
        "line": finding.line,
        "col": finding.col,
        "field": finding.field,
        "page": finding.page,
        "excerpt": finding.excerpt,
    }


def _finding(item: Any) -> Finding:
    if not isinstance(item, dict) or item.get("severity") not in ("error", "warning", "notice"):
        raise ValueError("not a finding")
    texts = {name: item[name] for name in ("rule", "message", "hint", "field", "excerpt")}
    numbers = {name: item[name] for name in ("line", "col", "page")}
    if not all(isinstance(v, str) for v in texts.values()):
        raise ValueError("not a finding")
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in numbers.values()):
        raise ValueError("not a finding")
    file = item["file"]
    if file is not None and not isinstance(file, str):
        raise ValueError("not a finding")
    return Finding(
        severity=item["severity"], file=Path(file) if file is not None else None, **texts, **numbers
    )
