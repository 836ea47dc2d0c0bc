"""PDF objects formatted once per process instead of once per document.

ReportLab formats every object of every document from its Python form. Most
objects of our documents are the same from one document to the next: the
embedded font's parts (font program, ToUnicode map, descriptor, font
dictionary) depend only on the face and the glyph subset, the Info dictionary
only on the fixed metadata. What can differ is the numbers of the objects they
refer to (they shift with the page count), so `Formatted` keeps the bytes per
(key, those numbers). Formatting them was about half of a one-page label's
render time.

The cached bytes are exactly what ReportLab writes for the same object, so
caching changes no output byte (a test compares against a cold cache).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

_CACHE_MAX = 1024
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
        return cached_format(key, document, lambda: _InfoView(self))


class _InfoView(pdfdoc.PDFObject):  # type: ignore[misc]  # untyped library class
    """ReportLab's own Info formatting (the cache's miss path)."""

    def __init__(self, info: pdfdoc.PDFInfo) -> None:
        self.info = info

    def format(self, document: Any) -> bytes:
        return pdfdoc.PDFInfo.format(self.info, document)  # type: ignore[no-any-return]


def format_once(canvas: Canvas) -> None:
    """Format `canvas`'s Info dictionary from the per-process cache (call
    before saving; the font objects are cached by `fonts._CachedFont`)."""
    canvas._doc.info.__class__ = _FormattedInfo
