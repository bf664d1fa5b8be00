"""Stage 2: ``Issue`` + layout folder -> HTML.

Templates and CSS live in ``layouts/``; this module only wires them to the data. Jinja2
runs with autoescape on and ``StrictUndefined``: a typo in a template fails loudly and no
editor's text can become markup.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import mimetypes
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
import jinja2.bccache
import jinja2.filters
import jinja2.nodes
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

from ..errors import IssueError, error
from ..issue.hyphenation import PATTERNS
from ..issue.markup import Inline, breakable_addresses, set_text
from ..issue.model import Issue, figures
from ..issue.typography import format_span, typeset_labels
from ..issue.yamlsafe import read_yaml
from ..shipped import Layout
from ..usercache import Store, cache_folder, code_tag


class MailSettings(BaseModel):
    """What a layout sets for the mail to the posts (``mail.yaml`` beside its templates)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: A longer subject is a warning: mail clients show about 60 to 80 characters of it in
    #: their lists, and RFC 5322 asks that a header line keep within 78.
    subject_limit: Annotated[int, Field(ge=20, le=998)] = 78


def mail_settings(layout: Layout) -> MailSettings:
    """The layout's mail settings; the defaults when it has no ``mail.yaml``. Raises
    ``IssueError`` located in the file when it is malformed."""
    from ..issue.load import read_model  # load imports the model, as render does: no cycle at import

    if not layout.mail_file.is_file():
        return MailSettings()
    return read_model(layout.mail_file, MailSettings, "the layout's mail.yaml", "layouts/mail.yaml")[0]


#: Label keys the Python side reads (the templates' own are found in the templates).
_CODE_LABELS = {
    "page": str,
    "pages": str,
    "and": str,
    "issue": str,
    "attached": str,
    "mail_subject": str,
    "print_slug": str,
}
#: Languages an issue may be written in: every one needs the whole label table.
LANGUAGES: tuple[str, ...] = typing.get_args(Issue.model_fields["language"].annotation)


class RenderCache:
    """What a warm process keeps from one render to the next: the templates compiled (Jinja's
    bytecode, used only while a template's source is the same) and the label tables read
    (used only while ``labels.yaml`` and the templates are the same)."""

    def __init__(self) -> None:
        self.bytecode = _MemoryBytecodeCache()
        self._labels: dict[tuple[Any, ...], dict[str, Any]] = {}

    def labels(self, layout: Layout, language: str) -> dict[str, Any]:
        """``labels_for``, read again only when a file it reads changed."""
        files = [layout.labels_file, *sorted(layout.templates.glob("*.j2"))]
        key = (language, *(_text_or_none(path) for path in files))
        if key not in self._labels:
            self._labels = {key: labels_for(layout, language)}
        return self._labels[key]


class _DiskBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates in the user's cache, for the next process (compiling issue 10's
    templates takes about a tenth of a second). Jinja checks each against its template's
    source; the file names carry what else the compiled code depends on. A cache that cannot
    be read or written is done without."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a spoiled entry (its header is unpickled): compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        # Jinja's own, but for a path that is not UTF-8 (it would raise): the same otherwise.
        digest = hashlib.sha1(name.encode("utf-8", "surrogatepass"))
        if filename is not None:
            digest.update(f"|{filename}".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()


def _disk_bytecode() -> jinja2.BytecodeCache | None:
    """The user's cache of compiled templates, their files named by the code that compiles
    them (``usercache.code_tag``: the environment's settings, which templates escape, are
    this module's); None without one."""
    folder = cache_folder("templates")
    tag = code_tag()
    if folder is None or tag is None:
        return None
    return _DiskBytecodeCache(str(folder), f"{tag}-%s.cache")


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates in memory; Jinja checks each against its template's source."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


def _text_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def labels_for(layout: Layout, language: str) -> dict[str, Any]:
    """The label table of ``language``, checked whole for every language an issue may use.

    Every key the templates read (``labels.x``) and the code reads must be in every
    language's table, so that a French edition cannot fail half way through its layout;
    each missing key or language is an error located in ``labels.yaml``.
    """
    located = read_yaml(layout.labels_file)
    if located.problems:
        raise IssueError(list(located.problems))
    table = located.data
    path = layout.labels_file
    hint = "add it to layouts/labels.yaml, in the words of that language"
    if not isinstance(table, dict):
        raise IssueError(
            [
                error(
                    path,
                    "expected one table of labels per language (en:, fr:)",
                    line=1,
                    col=1,
                    rule="labels",
                    hint=hint,
                )
            ]
        )
    wanted = _template_labels(layout.templates) | set(_CODE_LABELS)
    findings = []
    for lang in LANGUAGES:
        labels = table.get(lang)
        if not isinstance(labels, dict):
            findings.append(
                error(
                    path,
                    f"no labels for the language {lang!r}",
                    line=1,
                    col=1,
                    field=lang,
                    rule="labels",
                    hint=hint,
                )
            )
            continue
        line, col = located.keys.get((lang,)) or located.where((lang,)) or (None, None)
        for key in sorted(wanted - set(labels)):
            findings.append(
                error(
                    path,
                    f"the label {key!r} is missing for {lang!r}; the layout prints it",
                    line=line,
                    col=col,
                    field=f"{lang}.{key}",
                    rule="labels",
                    hint=hint,
                )
            )
        for key, kind in _CODE_LABELS.items():
            if key in labels and not isinstance(labels[key], kind):
                kline, kcol = located.where((lang, key)) or (line, col)
                findings.append(
                    error(
                        path,
                        f"the label {key!r} should be a {kind.__name__}",
                        line=kline,
                        col=kcol,
                        field=f"{lang}.{key}",
                        rule="labels",
                        hint=hint,
                    )
                )
    if findings:
        raise IssueError(findings)
    if language not in table:
        raise IssueError(
            [error(path, f"no labels for the language {language!r}", line=1, col=1, rule="labels", hint=hint)]
        )
    return typeset_labels(table[language], language)


def _template_labels(folder: Path) -> set[str]:
    """Every ``labels.<key>`` (or ``ctx.labels.<key>``) that a template of ``folder`` reads:
    parsed again only when a template changed (a rule and the renderer ask at every build,
    and parsing the templates takes 0.03 s), else known from this process or, by the
    templates' bytes, from the user's cache (``usercache.py``)."""
    stamps = []
    for template in sorted(folder.glob("*.j2")):
        info = template.stat()
        stamps.append((template, info.st_size, info.st_mtime_ns))
    return set(_labels_read(tuple(stamps)))


@functools.lru_cache(maxsize=8)
def _labels_read(templates: tuple[tuple[Path, int, int], ...]) -> frozenset[str]:
    sources = [(template, template.read_bytes()) for template, _, _ in templates]
    key = Store.key(*(part for template, source in sources for part in (template.name, source)))
    store = Store.named("labels")
    kept = store.read(key) if store is not None else None
    if kept is not None and isinstance(kept[0].get("labels"), list):
        return frozenset(str(key) for key in kept[0]["labels"])
    env = jinja2.Environment()
    keys: set[str] = set()
    for _, source in sources:
        tree = env.parse(source.decode("utf-8"))
        for node in tree.find_all(jinja2.nodes.Getattr):
            inner = node.node
            if (isinstance(inner, jinja2.nodes.Name) and inner.name == "labels") or (
                isinstance(inner, jinja2.nodes.Getattr) and inner.attr == "labels"
            ):
                keys.add(node.attr)
    if store is not None:
        store.write(key, {"labels": sorted(keys)}, [])
    return frozenset(keys)


def jinja_env(
    layout: Layout,
    labels: dict[str, Any],
    pages: Callable[[str], int] | Mapping[str, int] | None = None,
    bytecode: jinja2.BytecodeCache | None = None,
    language: str | None = None,
) -> jinja2.Environment:
    """The one Jinja environment of a layout's templates, for everything made from them (the
    PDF's HTML, the mail's bodies): ``StrictUndefined``, so that a typo fails loudly;
    autoescape on for every template but plain text (``*.txt.j2``); and the ``inline``
    (markup -> HTML) and ``plain`` (markup -> text) filters, in the words of ``labels``.
    ``pages`` gives the page of an id (a mapping, or a function); 0 where none is known.
    ``bytecode`` keeps the compiled templates (a warm process's memory); without it, they
    are kept in the user's cache (``usercache.py``) when there is one.
    With a ``language`` (the PDF's HTML), ``inline`` sets the text for the page (``markup.set_text``:
    ordinals, hyphenation exceptions, the unbroken end of a paragraph; ``inline(display=True)``
    for titles and labels) and ``display`` does it for plain fields.
    """
    if callable(pages):
        page_of = pages
    else:
        known = pages or {}
        # Until a layout says where a target lies, 0 holds its place (a first pass prints it).
        page_of = lambda target: known.get(target, 0)
    inline = Inline(labels["page"], labels["pages"], labels["and"], page_of)
    paged = Inline(labels["page"], labels["pages"], labels["and"], page_of, language) if language else inline
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(layout.templates),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=(),
            disabled_extensions=("txt.j2", "txt"),
            default_for_string=True,
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.bytecode_cache = bytecode if bytecode is not None else _disk_bytecode()
    env.filters["inline"] = paged.render
    env.filters["display"] = (
        (lambda text: Markup(set_text(text, language, display=True))) if language else escape
    )
    env.filters["plain"] = lambda text: Markup(inline.render(text)).striptags()
    env.filters["address"] = breakable_addresses
    env.filters["page"] = page_of
    return _at_render(env)


def _at_render(env: jinja2.Environment) -> jinja2.Environment:
    """``env`` with each of its own filters run when a template renders, never when it is
    compiled. Jinja folds a filter applied to a literal (``"logo.png" | asset``) into the
    compiled code, and compiled templates are kept between renders and processes: the
    answer for one issue, language or pass would print in every other. A filter that takes
    the render's context is never folded; these take it and leave it."""
    for name, func in env.filters.items():
        if name not in jinja2.filters.FILTERS and not getattr(func, "jinja_pass_arg", None):
            env.filters[name] = jinja2.pass_context(_context_left(func))
    return env


def _context_left(func: Callable[..., Any]) -> Callable[..., Any]:
    def filtered(context: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return filtered


#: Markers of issue.html.j2 (HTML comments: an editor's text, always escaped, cannot make one).
CSS_OPEN, CSS_CLOSE = "<!--newsletter:css-->", "<!--newsletter:/css-->"
PART, PARTS_END = "<!--newsletter:part-->", "<!--newsletter:/part-->"


@dataclass(frozen=True)
class Rendered:
    """The issue as HTML for given page numbers, and what the layout needs besides."""

    #: The whole document (what ``--html`` writes and a browser can print).
    html: str
    #: The stylesheets, in the cascade's order: the layout's files, then the issue's own
    #: rules (``issue.css.j2``: its fonts, the words of its language).
    stylesheets: tuple[Path, ...]
    css: str
    #: The page numbers the references print, by target (0 where none is known yet).
    printed: Mapping[str, int]
    #: Standalone documents without stylesheets, one per part that starts a new page (see
    #: issue.html.j2); empty when the template marks no parts (laid out whole).
    parts: tuple[str, ...]


def issue_renderer(
    issue: Issue,
    layout: Layout,
    image_base: Path,
    stylesheets: tuple[str, ...] = (),
    images: dict[str, str] | None = None,
    cache: RenderCache | None = None,
) -> Callable[[Mapping[str, int]], Rendered]:
    """The issue's HTML as a function of the page numbers: the labels are read and the
    templates loaded once, and each layout pass renders with the numbers it knows.

    ``image_base`` is the issue's folder: figure paths are relative to it. ``stylesheets``
    are extra files of the layout applied after ``newsletter.css`` (an edition's own);
    ``images`` replaces figure files by name with URLs (e.g. their CMYK conversions).
    ``cache`` keeps compiled templates and label tables for the next render (a warm process).
    """
    replaced = images or {}
    labels = cache.labels(layout, issue.language) if cache is not None else labels_for(layout, issue.language)
    known: dict[str, int] = {}
    printed: dict[str, int] = {}

    def page_of(target: str) -> int:
        printed[target] = known.get(target, 0)
        return printed[target]

    env = jinja_env(layout, labels, page_of, cache.bytecode if cache is not None else None, issue.language)
    # A quotation's date always with its year; an agenda's without it when it is the issue's.
    # Set as display text: "1er juin" gets its raised ordinal like the editors' text.
    env.filters["date"] = lambda day, end=None: Markup(
        set_text(format_span(day, end, issue.language), issue.language, True)
    )
    env.filters["dates"] = lambda e: Markup(
        set_text(format_span(e.start, e.end, issue.language, issue.date.year), issue.language, True)
    )
    env.filters["css_string"] = _css_string
    env.filters["asset"] = lambda name: replaced.get(name) or _data_url(image_base / name)
    _at_render(env)
    sheets = (layout.stylesheet, *(layout.templates / sheet for sheet in stylesheets))
    values = {
        "issue": issue,
        "labels": labels,
        "stylesheets": [sheet.resolve().as_uri() for sheet in sheets],
        "fonts": layout.fonts.resolve().as_uri(),
        # The hyphenation patterns of the issue's language (issue/hyphenation.py).
        "hyphenation": PATTERNS[issue.language],
    }
    template = env.get_template("issue.html.j2")
    css_template = env.get_template("issue.css.j2")

    def render(pages: Mapping[str, int]) -> Rendered:
        known.clear()
        known.update(pages)
        printed.clear()
        html = template.render(values)
        css = css_template.render(values)
        return Rendered(html, sheets, css, dict(printed), split_parts(html))

    return render


def split_parts(html: str) -> tuple[str, ...]:
    """The parts of a document marked by issue.html.j2, each a document of its own: the head
    without its stylesheets (given to the layout parsed once), one part's body. Empty when
    the markers are missing or out of order (a layout of one's own may mark nothing)."""
    css_open, css_close = html.find(CSS_OPEN), html.find(CSS_CLOSE)
    first, end = html.find(PART), html.find(PARTS_END)
    if not 0 <= css_open < css_close < first < end:
        return ()
    prelude = html[:css_open] + html[css_close + len(CSS_CLOSE) : first]
    closing = html[end + len(PARTS_END) :]
    return tuple(prelude + body + closing for body in html[first + len(PART) : end].split(PART))


def image_urls(issue: Issue, image_base: Path) -> dict[str, str]:
    """Every figure's image as a ``data:`` URL, by its name in the issue: read once for all
    the layout passes of a build."""
    return {figure.image: _data_url(image_base / figure.image) for _, figure in figures(issue)}


def _data_url(path: Path) -> str:
    """The image as a ``data:`` URL.

    WeasyPrint names each image in the PDF by the MD5 of its URL: a ``file:`` URL would put
    the checkout's path into the PDF's bytes, and the same issue built in two folders would
    differ. (Where images may come from is checked before: see the ``image-file`` rule.)
    """
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _css_string(value: str) -> Markup:
    """A CSS string literal; quotes and backslashes escaped so a label cannot end it early."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return Markup(f'"{escaped}"')
