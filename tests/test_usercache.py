"""What a build keeps in the user's cache for the next process (``usercache.py``): the images
WeasyPrint makes for the PDF (``engine/rasters.py``) and the hyphenation patterns it parses
(``engine/patterns.py``). The same bytes with the cache, without it, and with a spoiled one;
nothing made again when it is warm. (Compiled templates: ``test_render.py``.)"""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import PIL.Image
import pyphen
import pytest
from conftest import edit

import newsletter.engine.weasy  # noqa: F401 - installs what keeps the patterns
from newsletter import build as building
from newsletter import usercache
from newsletter.build import build_issue
from newsletter.engine import nbsp
from newsletter.errors import IssueError
from newsletter.shipped import DEFAULT_LAYOUT
from newsletter.usercache import Store

FIGURES = """      - type: figure
        image: {name}
        alt: A picture
        caption: A caption.
        stand_in: true
"""


def _pictures(folder: Path) -> None:
    """A large photograph-like PNG (optimised, then brought down to 150 dpi), a JPEG, and a
    PNG with transparency (its mask made apart: not kept)."""
    rng = random.Random(4)
    noise = bytes(rng.randrange(256) for _ in range(90 * 50 * 3))
    photo = PIL.Image.frombytes("RGB", (90, 50), noise).resize((1800, 1000), PIL.Image.Resampling.BILINEAR)
    photo.save(folder / "large.png")
    photo.resize((1200, 660)).save(folder / "photo.jpg", quality=95)
    clear = PIL.Image.new("RGBA", (600, 300), (200, 30, 30, 120))
    clear.save(folder / "clear.png")


@pytest.fixture
def pictured(minimal: Path) -> Path:
    _pictures(minimal.parent)
    more = "".join(FIGURES.format(name=name) for name in ("large.png", "photo.jpg", "clear.png"))
    edit(minimal, "      - type: figure\n", more + "      - type: figure\n")
    return minimal


def _built(issue: Path, out: Path) -> str:
    result = build_issue(issue, out_dir=out)
    assert result.pdf is not None
    return hashlib.sha256(result.pdf.read_bytes()).hexdigest()


def test_kept_images_give_the_same_pdf_and_are_not_encoded_again(
    pictured: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(pictured / "below-a-file"))
    without = _built(pictured, tmp_path / "without")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert _built(pictured, tmp_path / "cold") == without
    kept = list((tmp_path / "cache" / "newsletter" / "images").iterdir())
    # Each image as loaded (encoded again) and as written (brought down to 150 dpi), but the
    # transparent one as written: its colour and its mask are made apart, anew every time.
    assert len(kept) == 7, kept
    saved: list[str] = []
    save = PIL.Image.Image.save
    monkeypatch.setattr(
        PIL.Image.Image, "save", lambda image, *a, **k: saved.append(image.mode) or save(image, *a, **k)
    )
    assert _built(pictured, tmp_path / "warm") == without
    # Only the transparent image's colour and mask were encoded.
    assert sorted(saved) == ["L", "RGB"], saved


def test_spoiled_entries_are_made_again(
    pictured: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = _built(pictured, tmp_path / "first")
    spoils = [
        lambda data: data[: len(data) // 2],
        lambda data: os.urandom(len(data)),
        lambda data: data.replace(b'"extra"', b'"extro"').replace(b'"mode"', b'"mood"'),
        lambda data: b"",
    ]
    entries = sorted((tmp_path / "cache" / "newsletter" / "images").iterdir())
    for n, entry in enumerate(entries):
        entry.write_bytes(spoils[n % len(spoils)](entry.read_bytes()))
    assert _built(pictured, tmp_path / "again") == first


def test_the_cache_is_cut_back_oldest_used_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path)
    for n in range(6):
        store.write(f"entry{n}", {"n": n}, [bytes(600)])
        os.utime(tmp_path / f"entry{n}", ns=((n + 1) * 10**9, (n + 1) * 10**9))
    assert store.read("entry0") == ({"n": 0}, [bytes(600)])  # used now: the newest
    size = (tmp_path / "entry0").stat().st_size
    monkeypatch.setattr(usercache, "_MAX_BYTES", 5 * size)
    monkeypatch.setattr(usercache, "_KEEP_BYTES", 3 * size)
    store.write("entry6", {"n": 6}, [bytes(600)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry0", "entry5", "entry6"]


WORDS = ["organisation", "prosecution", "trafficking", "multilateralism", "negotiation", "assistance"]


def test_parsed_hyphenation_patterns_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    parsed: list[object] = []
    made = pyphen.HyphDict.__mro__[1]
    parse = made.__init__
    monkeypatch.setattr(made, "__init__", lambda patterns, path: parsed.append(path) or parse(patterns, path))

    def hyphenated() -> tuple[list[str], object]:
        monkeypatch.setattr(pyphen, "hdcache", {})  # as in a new process
        dictionary = pyphen.Pyphen(lang="en_US", left=2, right=3)
        return [dictionary.inserted(word) for word in WORDS], dictionary.hd

    words, first = hyphenated()
    assert len(parsed) == 1 and "or-gan" in words[0], (parsed, words)
    again, kept = hyphenated()
    assert len(parsed) == 1 and again == words
    assert type(kept) is made and vars(kept) == vars(first)
    for entry in (tmp_path / "cache" / "newsletter" / "hyphenation").iterdir():
        entry.write_bytes(entry.read_bytes()[:-20] + bytes(20))
    assert hyphenated()[0] == words and len(parsed) == 2


def test_mended_fonts_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fonts = DEFAULT_LAYOUT.fonts
    assert nbsp.kept_fonts(fonts) is None  # nothing kept yet: a build mends them aside
    first = nbsp.patched_fonts(fonts)
    assert nbsp.kept_fonts(fonts) == first
    assert sum(1 for mended in first.values() if mended) == 4  # Lato's four files
    with monkeypatch.context() as inside:
        inside.setattr(nbsp, "distinct_nbsp", lambda data: pytest.fail("mended again"))
        assert nbsp.patched_fonts(fonts) == first
    for entry in (tmp_path / "cache" / "newsletter" / "fonts").iterdir():
        entry.write_bytes(entry.read_bytes()[:100])
    assert nbsp.patched_fonts(fonts) == first


def test_an_issue_is_loaded_and_typeset_once_for_its_text(
    minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = build_issue(minimal, out_dir=tmp_path / "first")
    assert len(list((tmp_path / "cache" / "newsletter" / "issues").iterdir())) == 1
    with monkeypatch.context() as inside:
        inside.setattr(building, "load_issue", lambda path: pytest.fail("loaded again"))
        inside.setattr(building, "typeset_issue", lambda *a: pytest.fail("typeset again"))
        again = build_issue(minimal, out_dir=tmp_path / "again")
    assert again.findings == first.findings
    assert first.pdf is not None and again.pdf is not None
    assert again.pdf.read_bytes() == first.pdf.read_bytes()
    # The code changed (another version of the package): loaded again.
    loads: list[Path] = []
    load = building.load_issue
    monkeypatch.setattr(building, "load_issue", lambda path: loads.append(path) or load(path))
    with monkeypatch.context() as inside:
        inside.setattr(usercache, "code_tag", lambda: "another version")
        build_issue(minimal, out_dir=tmp_path / "code")
    assert len(loads) == 1
    # Spoiled: loaded again, the same.
    for entry in (tmp_path / "cache" / "newsletter" / "issues").iterdir():
        entry.write_bytes(entry.read_bytes()[:-50] + bytes(50))
    spoiled = build_issue(minimal, out_dir=tmp_path / "spoiled")
    assert len(loads) == 2 and spoiled.findings == first.findings
    # Another text: loaded again, and it is what the PDF says.
    edit(minimal, "A lead paragraph.", "A lead paragraph, edited.")
    edited = build_issue(minimal, out_dir=tmp_path / "edited")
    assert len(loads) == 3 and edited.pdf is not None
    assert "edited" in pdf_text(edited.pdf)


def test_an_issue_with_errors_is_not_kept(
    minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    edit(minimal, "number: 1", "number: one")
    with pytest.raises(IssueError):
        build_issue(minimal, out_dir=tmp_path / "out")
    assert not (tmp_path / "cache" / "newsletter" / "issues").exists() or not list(
        (tmp_path / "cache" / "newsletter" / "issues").iterdir()
    )


def pdf_text(pdf: Path) -> str:
    """The PDF's text, as pdfium extracts it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_a_spoiled_entry_is_missing_never_a_crash(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write("good", {"n": 1}, [b"data"])
    good = (tmp_path / "good").read_bytes()
    head = usercache._MAGIC + (1).to_bytes(4, "big")
    spoiled = {
        "huge size": head + (2**62).to_bytes(8, "big") + b"{}",
        "larger than the file": head + (10**6).to_bytes(8, "big") + b"{}",
        "deep header": head + (30002).to_bytes(8, "big") + b"[" * 15001 + b"]" * 15001,
        "not a header": head + (2).to_bytes(8, "big") + b"[]",
        "cut short": good[:-3],
    }
    for name, data in spoiled.items():
        (tmp_path / name).write_bytes(data)
        assert store.read(name) is None, name
    assert store.read("good") == ({"n": 1}, [b"data"])


def test_the_cache_folder_is_refused_where_another_could_reach_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "relative/home")  # the cache would follow the working folder
    assert usercache.cache_folder("x") is None
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone may rename what is in it, without the sticky bit
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared / "cache"))
    assert usercache.cache_folder("x") is None
    shared.chmod(0o1777)  # as /tmp: only the owner of an entry may rename it
    assert usercache.cache_folder("x") == (shared / "cache" / "newsletter" / "x").resolve()
