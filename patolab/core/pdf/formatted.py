"""PDF objects formatted once per process instead of once per document.

ReportLab formats every object of every document from its Python form. Most
objects of our documents are the same from one document to the next: the
embedded font's parts (font program, ToUnicode map, descriptor, font
dictionary) depend only on the face and the glyph subset, the Info dictionary
only on the fixed metadata, the catalog, the page tree and a plain page (page
size, contents, fonts) only on the numbers of the objects they refer to. Those
numbers shift with the page count, so the bytes are kept per (key, numbers).
Formatting these objects was about half of a one-page label's render time.

Only the miss path formats, with ReportLab's own code, after the same object
registrations in the same order, so caching changes no output byte (a test
compares a label batch with a cold cache and with ReportLab alone).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

_CACHE_MAX = 4096  # a few KB for a font program, ~250 bytes for a page
_cache: OrderedDict[Hashable, bytes] = OrderedDict()
_lock = threading.Lock()


def _plain(document: Any) -> bool:
    """True when formatting does not depend on the document beyond object
    numbers: unencrypted (encryption keys every string and stream by its
    object number) and invariant (no per-run timestamps)."""
    return bool(document.invariant) and isinstance(
        document.encrypt, pdfdoc.NoEncryption
    )


def cached_format(
    key: Hashable, document: Any, build: Callable[[], pdfdoc.PDFObject]
) -> bytes:
    """`build()` formatted for `document`, from the per-process cache when
    `key` was formatted before. `key` must include everything the bytes depend
    on, including the numbers of referenced objects; `build` must not register
    objects (it may only refer to registered ones by name)."""
    if not _plain(document):
        return pdfdoc.format(build(), document, toplevel=1)  # type: ignore[no-any-return]
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    data: bytes = pdfdoc.format(build(), document, toplevel=1)
    with _lock:
        _cache[key] = data
        while len(_cache) > _CACHE_MAX:
            _cache.popitem(last=False)
    return data


def cache_clear() -> None:
    """Forget every cached object (tests compare against a cold cache)."""
    with _lock:
        _cache.clear()


class Formatted(pdfdoc.PDFObject):  # type: ignore[misc]  # untyped library class
    """An indirect object whose bytes depend only on `key` and on the numbers
    of the objects named in `refs` (registered before the document is
    formatted); `build` gives the ReportLab object to format on a miss."""

    __RefOnly__ = 1  # always an indirect object, also inside a dictionary

    def __init__(
        self, key: Hashable, refs: tuple[str, ...], build: Callable[[], Any]
    ) -> None:
        self.key = key
        self.refs = refs
        self.build = build

    def format(self, document: Any) -> bytes:
        numbers = document.idToObjectNumberAndVersion
        return cached_format(
            (self.key, tuple(numbers[name] for name in self.refs)),
            document,
            self.build,
        )


class _FormattedInfo(pdfdoc.PDFInfo):  # type: ignore[misc]  # untyped library class
    """The Info dictionary, formatted once per metadata (no references)."""

    def format(self, document: Any) -> bytes:
        key = (
            "info",
            self.title,
            self.author,
            self.subject,
            self.creator,
            self.producer,
            self.keywords,
            self.trapped,
            self._dateFormatter,
            document._timeStamp.t,
            document._timeStamp.tzname,
        )
        return cached_format(key, document, lambda: _View(pdfdoc.PDFInfo, self))


class _FormattedCatalog(pdfdoc.PDFCatalog):  # type: ignore[misc]  # untyped library class
    """The document catalog, formatted once per page-tree number when it has
    nothing but its defaults and the page tree."""

    def format(self, document: Any) -> bytes:
        if any(
            getattr(self, name, None) is not None
            for name in (*self.__NoDefault__, "Lang")
            if name != "Pages"
        ):
            return pdfdoc.PDFCatalog.format(self, document)  # type: ignore[no-any-return]
        pages = document.Reference(self.Pages)  # registers it, as the catalog does
        key = ("catalog", document.idToObjectNumberAndVersion[pages.name])
        return cached_format(key, document, lambda: _View(pdfdoc.PDFCatalog, self))


class _FormattedPages(pdfdoc.PDFPages):  # type: ignore[misc]  # untyped library class
    """The page tree, formatted once per list of page numbers."""

    def format(self, document: Any) -> bytes:
        if getattr(self, "Parent", None) is not None:
            return pdfdoc.PDFPages.format(self, document)  # type: ignore[no-any-return]
        numbers = document.idToObjectNumberAndVersion
        kids = tuple(numbers[page.__InternalName__] for page in self.pages)
        return cached_format(
            ("pages", kids), document, lambda: _View(pdfdoc.PDFPages, self)
        )


# What a plain page leaves unset (ReportLab fills in the box, resources and
# links itself): a page with any of them is formatted by ReportLab as usual.
_PAGE_UNSET = (
    *(
        name
        for name in pdfdoc.PDFPage.__NoDefault__
        if name not in ("Parent", "Contents", "Rotate", "Trans")
    ),
    "XObjects",
    "ExtGState",
    "_colorsUsed",
    "_shadingUsed",
)


class _FormattedPage(pdfdoc.PDFPage):  # type: ignore[misc]  # untyped library class
    """A plain page (contents and fonts only), formatted once per page size and
    the numbers of its contents, page tree and font dictionary."""

    def format(self, document: Any) -> bytes:
        plain = (
            not self.Override_default_compilation
            and self.stream
            and not any(getattr(self, name, None) for name in _PAGE_UNSET)
            and (self.Trans is None or not self.Trans.dict)
        )
        if not plain:
            return pdfdoc.PDFPage.format(self, document)  # type: ignore[no-any-return]
        # ReportLab's own set-up and registrations, in its order: the page tree
        # (in check_format), then the contents stream (first of the references
        # the page dictionary makes).
        self.check_format(document)
        contents = document.Reference(self.Contents)
        numbers = document.idToObjectNumberAndVersion
        key = (
            "page",
            self.pagewidth,
            self.pageheight,
            self.Rotate,
            bool(self.hasImages),
            self.Trans is None,
            numbers[contents.name],
            numbers[self.Parent.name],
            numbers[pdfdoc.BasicFonts],
        )
        return cached_format(key, document, lambda: _View(pdfdoc.PDFPage, self))


class _View(pdfdoc.PDFObject):  # type: ignore[misc]  # untyped library class
    """`obj` formatted by ReportLab's class `kind` (the cache's miss path)."""

    def __init__(self, kind: type, obj: Any) -> None:
        self.kind = kind
        self.obj = obj

    def format(self, document: Any) -> bytes:
        return self.kind.format(self.obj, document)  # type: ignore[attr-defined,no-any-return]


def format_once(canvas: Canvas) -> None:
    """Format `canvas`'s Info, catalog, page tree and plain pages from the
    per-process cache (call just before `save`, when every page is made; the
    font objects are cached by `fonts._CachedFont`)."""
    doc = canvas._doc
    doc.info.__class__ = _FormattedInfo
    doc.Catalog.__class__ = _FormattedCatalog
    doc.Pages.__class__ = _FormattedPages
    for page in doc.Pages.pages:
        if type(page) is pdfdoc.PDFPage:
            page.__class__ = _FormattedPage
