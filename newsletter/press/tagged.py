"""The structure tree of a tagged edition, mended where WeasyPrint's tagger breaks PDF/UA.

WeasyPrint tags a PDF from its box tree, and a box tree is not the document's structure:

- a list laid out as a CSS table (the key figures) is boxed in a table wrapper, a table, a row
  group and a row, all of the list's own element: it becomes ``L`` in ``L`` in ``L`` in ``L``;
- ``<dl><div><dt/><dd/></div></dl>`` (valid HTML: a ``div`` groups a term and its
  descriptions) becomes ``L > Div > LI``: a ``Div`` among a list's items and items outside a
  list (PDF/UA-1 via ISO 32000-1, 14.8.4.3.3: an ``L`` holds ``LI``, ``L`` and ``Caption``;
  an ``LI`` is held by an ``L``);
- every box inside a link carries the link: ``<a><span>`` gives the span its own annotation,
  nested in a ``Span`` rather than in the ``Link`` element (PDF/UA-1, 7.18.5: a link
  annotation is nested in a ``Link`` element).

This runs as part of the edition's ``write_pdf`` finisher, on ``pydyf``'s objects before
they are written. It changes the tree only, never the page content: every annotation stays,
and every marked-content sequence keeps its element. An element that the tree no longer
holds is emptied, not removed (``pydyf`` numbers objects by their place in its list).

Each link annotation's ``Contents`` (its description for assistive technology, PDF/UA-1
7.18.5) becomes the link's text, or its ``title`` attribute, in place of the bare target.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydyf

from .finish import deref

#: Elements that a list may hold (ISO 32000-1, table 336 and 14.8.4.3.3).
_LIST_KIDS = frozenset({"/L", "/LI", "/Caption"})
#: Grouping elements that say nothing when one holds only another of its kind: the boxes
#: WeasyPrint makes for one element (a table wrapper and its table, a row...).
_COLLAPSIBLE = frozenset({"/L", "/Div", "/NonStruct"})


def mend_structure(document: Any, pdf: Any) -> None:
    """Mend the structure tree of the ``pydyf.PDF`` written from ``document`` (see the module)."""
    root = deref(pdf, pdf.catalog.get("StructTreeRoot"))
    if root is None:
        return
    tree = _Tree(pdf, root)
    for element in list(tree.elements()):
        tree.collapse(element)
    for element in list(tree.elements()):
        if element.get("S") == "/L":
            tree.mend_list(element)
    tree.wrap_stray_items()
    tree.nest_links()
    tree.drop_empty()
    _describe_links(document)


class _Tree:
    """The structure elements of one PDF, with their parents, changed in place."""

    def __init__(self, pdf: Any, root: Any) -> None:
        self.pdf = pdf
        self.root = root
        self.parent_tree = deref(pdf, root["ParentTree"])

    def kids(self, element: Any) -> list[Any]:
        """The element's ``K`` as a list (references, MCIDs, dictionaries)."""
        kids = element.get("K")
        if kids is None:
            return []
        return list(kids) if isinstance(kids, list) else [kids]

    def element_kids(self, element: Any) -> list[Any]:
        """The structure elements among the element's kids (not content, not annotations)."""
        found = []
        for kid in self.kids(element):
            obj = deref(self.pdf, kid)
            if isinstance(obj, dict) and obj.get("Type") == "/StructElem":
                found.append(obj)
        return found

    def elements(self) -> Iterator[Any]:
        """Every structure element, parents before their kids."""
        stack = list(reversed(self.element_kids(self.root)))
        while stack:
            element = stack.pop()
            yield element
            stack.extend(reversed(self.element_kids(element)))

    def set_kids(self, element: Any, kids: list[Any]) -> None:
        element["K"] = pydyf.Array(kids)
        for kid in kids:
            obj = deref(self.pdf, kid)
            if isinstance(obj, dict) and obj.get("Type") == "/StructElem":
                obj["P"] = element.reference

    def new_element(self, tag: str, parent: Any, kids: list[Any], like: Any) -> Any:
        element = pydyf.Dictionary(
            {"Type": "/StructElem", "S": tag, "K": pydyf.Array(), "P": parent.reference}
        )
        if "Pg" in like:
            element["Pg"] = like["Pg"]
        self.pdf.add_object(element)
        self.set_kids(element, kids)
        return element

    def collapse(self, element: Any) -> None:
        """An element whose one kid is an element of its own kind takes that kid's kids."""
        tag = element.get("S")
        if tag not in _COLLAPSIBLE:
            return
        while True:
            kids = self.kids(element)
            if len(kids) != 1:
                return
            only = deref(self.pdf, kids[0])
            if not isinstance(only, dict) or only.get("S") != tag or "A" in only or "Alt" in only:
                return
            self.set_kids(element, self.kids(only))
            only.clear()

    def mend_list(self, element: Any) -> None:
        """Each kid of a list that is not an item becomes one (a ``div`` grouping items: their
        bodies in one; anything else: the body of a new item)."""
        mended = []
        for kid in self.kids(element):
            obj = deref(self.pdf, kid)
            if not isinstance(obj, dict) or obj.get("S") in _LIST_KIDS:
                mended.append(kid)
                continue
            inner = self.element_kids(obj)
            if inner and all(e.get("S") == "/LI" for e in inner) and len(inner) == len(self.kids(obj)):
                body = [part for item in inner for part in self._item_body(item)]
                for item in inner:
                    item.clear()
                obj["S"] = "/LI"
                self.set_kids(obj, [self.new_element("/LBody", obj, body, obj).reference])
                mended.append(kid)
            else:
                item = self.new_element("/LI", element, [], obj)
                self.set_kids(item, [self.new_element("/LBody", item, [kid], obj).reference])
                mended.append(item.reference)
        self.set_kids(element, mended)

    def _item_body(self, item: Any) -> list[Any]:
        """What an item says, for merging: its bodies' kids and its other kids, in order."""
        parts: list[Any] = []
        for kid in self.kids(item):
            obj = deref(self.pdf, kid)
            if isinstance(obj, dict) and obj.get("S") in ("/LBody", "/Lbl"):
                parts.extend(self.kids(obj))
                obj.clear()
            else:
                parts.append(kid)
        return parts

    def wrap_stray_items(self) -> None:
        """Items outside a list: each run of them is put in a list of its own."""
        for parent in [self.root, *self.elements()]:
            if parent.get("S") == "/L" or not parent:
                continue
            kids, changed, run = self.kids(parent), False, []
            mended: list[Any] = []
            for kid in [*kids, None]:
                obj = deref(self.pdf, kid) if kid is not None else None
                if isinstance(obj, dict) and obj.get("S") == "/LI":
                    run.append(kid)
                    continue
                if run:
                    mended.append(self.new_element("/L", parent, run, deref(self.pdf, run[0])).reference)
                    run, changed = [], True
                if kid is not None:
                    mended.append(kid)
            if changed:
                self.set_kids(parent, mended)

    def nest_links(self) -> None:
        """Each link annotation in its link's ``Link`` element: an annotation WeasyPrint gave
        to a box inside the link (a ``span``, a ``wbr``) moves up to the ``Link`` element."""
        nums = self.parent_tree["Nums"]
        up: dict[int, Any] = {}
        for element in self.elements():
            for kid in self.element_kids(element):
                up[id(kid)] = element
        for i in range(0, len(nums), 2):
            holder = deref(self.pdf, nums[i + 1])
            if not isinstance(holder, dict) or holder.get("S") in (None, "/Link"):
                continue
            objr = next((k for k in self.kids(holder) if self._is_annotation(k)), None)
            if objr is None:
                continue
            link = up.get(id(holder))
            while link is not None and link.get("S") != "/Link":
                link = up.get(id(link))
            if link is None:
                holder["S"] = "/Link"  # the box that carries the link is the link
                continue
            self.set_kids(holder, [k for k in self.kids(holder) if k is not objr])
            self.set_kids(link, [*self.kids(link), objr])
            nums[i + 1] = link.reference

    def _is_annotation(self, kid: Any) -> bool:
        """Whether a kid is an object reference (``OBJR``): an annotation in the tree."""
        obj = deref(self.pdf, kid)
        return isinstance(obj, dict) and obj.get("Type") == "/OBJR"

    def drop_empty(self) -> None:
        """Elements left with no kids (a ``wbr`` whose annotation moved) leave the tree."""
        changed = True
        while changed:
            changed = False
            for parent in [self.root, *self.elements()]:
                kids = self.kids(parent)
                kept = [k for k in kids if not self._empty(k)]
                if len(kept) != len(kids):
                    for kid in kids:
                        if self._empty(kid):
                            deref(self.pdf, kid).clear()
                    self.set_kids(parent, kept)
                    changed = True

    def _empty(self, kid: Any) -> bool:
        obj = deref(self.pdf, kid)
        return (
            isinstance(obj, dict)
            and obj.get("Type") == "/StructElem"
            and not self.kids(obj)
            and "Alt" not in obj
            and "ActualText" not in obj
        )


def _describe_links(document: Any) -> None:
    """Each link annotation described by its link's words (or ``title``), not its target."""
    for page in document.pages:
        page_box = page._page_box  # WeasyPrint keeps the laid-out boxes there
        parents: dict[int, Any] = {}
        seen: set[int] = set()
        for box in _boxes(page_box):
            element = getattr(box, "element", None)
            if element is not None and id(element) not in seen:
                seen.add(id(element))
                for child in element:
                    parents[id(child)] = element
        for box in _boxes(page_box):
            annotation = getattr(box, "link_annotation", None)
            if annotation is None or "Contents" not in annotation:
                continue
            element = box.element
            while element is not None and element.tag != "a":
                element = parents.get(id(element))
            if element is None:
                continue
            words = element.get("title") or " ".join("".join(element.itertext()).split())
            if words:
                annotation["Contents"] = pydyf.String(words)


def _boxes(box: Any) -> Iterator[Any]:
    """The box and every box inside it."""
    stack = [box]
    while stack:
        current = stack.pop()
        yield current
        children = current.all_children() if hasattr(current, "all_children") else ()
        stack.extend(reversed(list(children)))
