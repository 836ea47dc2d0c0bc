"""Embedded TrueType fonts with Spanish glyphs (á é í ó ú ñ ü °), small and fast.

The faces are Bitstream Vera (shipped inside the ReportLab package, so every
machine that can install ReportLab has them), made lean once per process with
fontTools: hinting instructions and the tables only hinting uses are dropped,
and the naming table keeps only its Windows records. That halves every
embedded subset (hinting is useless in a PDF viewer that anti-aliases, and
print heads rasterize far above the sizes hinting helps). Vera's licence asks
that modified fonts not be called "Bitstream" or "Vera", so the lean faces are
renamed "Patolab Sans"; the copyright, trademark and licence records stay.

Every document claims the same glyphs in the same order first
(`claim_glyphs`), so the first subset of a face is the same in every PDF and
its compressed font stream is built once per process (`_CachedFace`) instead
of subset + deflate on every render. `warm_fonts()` fills that cache; Celery
calls it in every pool process (`worker_process_init`, config/celery.py) so no
user-facing job pays for it.
"""

from __future__ import annotations

import copy
import io
import threading
import zlib
from collections import OrderedDict
from functools import cache, partial
from pathlib import Path
from typing import Any

import reportlab
from reportlab import rl_config
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    TTFont,
    TTFontFace,
    makeToUnicodeCMap,
)
from reportlab.pdfgen.canvas import Canvas

from patolab.core.pdf.formatted import Formatted

FONT_DIR = Path(reportlab.__file__).resolve().parent / "fonts"
REGULAR = "PatolabSans"
BOLD = "PatolabSans-Bold"
ITALIC = "PatolabSans-Italic"
BOLD_ITALIC = "PatolabSans-BoldItalic"

_FACES = (
    (REGULAR, "Vera.ttf", "Regular"),
    (BOLD, "VeraBd.ttf", "Bold"),
    (ITALIC, "VeraIt.ttf", "Italic"),
    (BOLD_ITALIC, "VeraBI.ttf", "Bold Italic"),
)

# Non-ASCII characters Spanish documents use, claimed in this order at the
# start of every document. ReportLab numbers a subset's glyphs in order of
# first use (ASCII keeps its own codes), so with this prefix the first subset
# of a face is identical from one document to the next and its font stream is
# a cache hit.
SPANISH_GLYPHS = "áéíóúÁÉÍÓÚñÑüÜ°·—–«»¿¡ºª×…"

_STREAM_CACHE_MAX = 256  # per face; a document rarely needs more than one


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9)
    return packer.compress(data) + packer.flush()


_HINTING_TABLES = ("cvt ", "fpgm", "prep", "hdmx", "LTSH", "VDMX", "gasp")
# Copyright, trademark and the licence's URL; the licence text itself (ID 13,
# 2.3 KB) is dropped from embedded subsets, as fontTools' and HarfBuzz's
# subsetters do by default.
_KEPT_NAME_IDS = {0, 7, 14}


def lean_font_bytes(filename: str, style: str) -> bytes:
    """`filename` from ReportLab's font folder without hinting, renamed."""
    from fontTools.ttLib import TTFont as ToolsFont

    # recalcTimestamp=False: fontTools would stamp `head.modified` with the
    # time of this call, so every process (every worker) embedded different
    # font bytes and the same report rendered to a different file in each:
    # a regeneration rerun by another worker then re-stored every report.
    font = ToolsFont(str(FONT_DIR / filename), recalcTimestamp=False)
    for tag in _HINTING_TABLES:
        if tag in font:
            del font[tag]
    glyf = font["glyf"]
    for glyph_name in font.getGlyphOrder():
        glyf[glyph_name].removeHinting()
    maxp = font["maxp"]
    for attr in ("maxSizeOfInstructions", "maxFunctionDefs", "maxStorage"):
        setattr(maxp, attr, 0)
    name = font["name"]
    name.names = [
        r for r in name.names if r.platformID == 3 and r.nameID in _KEPT_NAME_IDS
    ]
    family = "Patolab Sans"
    full = family if style == "Regular" else f"{family} {style}"
    postscript = "PatolabSans-" + style.replace(" ", "")
    for name_id, value in (
        (1, family),
        (2, style),
        (3, f"{postscript};lean"),
        (4, full),
        (6, postscript),
    ):
        name.setName(value, name_id, 3, 1, 0x409)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class _CachedFace(TTFontFace):  # type: ignore[misc]  # untyped library class
    """A face whose embedded subset streams (TrueType subset, deflated) are
    built once per process and reused: the same glyph list always gives the
    same bytes, so caching them changes no output byte."""

    _streams: OrderedDict[tuple[int, ...], tuple[bytes, int]]
    _parts: OrderedDict[tuple[str, tuple[int, ...]], tuple[bytes, bytes]]
    _lock: threading.Lock

    def _memo(self, memo: OrderedDict[Any, Any], key: Any, build: Any) -> Any:
        with self._lock:
            hit = memo.get(key)
            if hit is not None:
                memo.move_to_end(key)
                return hit
        value = build()
        with self._lock:
            memo[key] = value
            while len(memo) > _STREAM_CACHE_MAX:
                memo.popitem(last=False)
        return value

    def font_stream(self, subset: list[int]) -> tuple[bytes, int]:
        def build() -> tuple[bytes, int]:
            raw = self.makeSubset(subset)
            return _deflate(raw), len(raw)

        return self._memo(self._streams, tuple(subset), build)  # type: ignore[no-any-return]

    def subset_parts(self, base: str, subset: list[int]) -> tuple[bytes, bytes]:
        """The formatted /Widths array and the deflated ToUnicode map."""

        def build() -> tuple[bytes, bytes]:
            widths = " ".join(f"{self.getCharWidth(c):g}" for c in subset)
            cmap = makeToUnicodeCMap(base, subset)
            return f"[ {widths} ]".encode(), _deflate(cmap.encode("latin-1"))

        return self._memo(self._parts, (base, tuple(subset)), build)  # type: ignore[no-any-return]

    def addSubsetObjects(self, doc: Any, fontname: str, subset: list[int]) -> Any:
        # The font program depends only on the glyphs; the descriptor only on
        # the subset's name and the font program's object number.
        glyphs = tuple(subset)
        program = f"fontFile:{self.name!r}({fontname})"

        def font_file() -> pdfdoc.PDFStream:
            compressed, length1 = self.font_stream(subset)
            stream = _deflated_stream(compressed)
            stream.dictionary["Length1"] = length1
            return stream

        def descriptor() -> pdfdoc.PDFDictionary:
            return pdfdoc.PDFDictionary(
                {
                    "Type": "/FontDescriptor",
                    "Ascent": self.ascent,
                    "CapHeight": self.capHeight,
                    "Descent": self.descent,
                    # The subset's codes are no standard encoding: symbolic.
                    "Flags": (self.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                    "FontBBox": pdfdoc.PDFArray(self.bbox),
                    "FontName": pdfdoc.PDFName(fontname),
                    "ItalicAngle": self.italicAngle,
                    "StemV": self.stemV,
                    "FontFile2": pdfdoc.PDFObjectReference(program),
                    "MissingWidth": self.defaultWidth,
                }
            )

        doc.Reference(Formatted(("fontFile", self, glyphs), (), font_file), program)
        return doc.Reference(
            Formatted(("fontDescriptor", self, fontname), (program,), descriptor),
            "fontDescriptor:" + fontname,
        )


class _Literal(pdfdoc.PDFObject):  # type: ignore[misc]  # untyped library class
    """Already formatted PDF (a cached /Widths array)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: Any) -> bytes:
        return self.data


def _deflated_stream(content: tuple[bytes, int] | bytes) -> pdfdoc.PDFStream:
    data = content[0] if isinstance(content, tuple) else content
    return pdfdoc.PDFStream(
        dictionary=pdfdoc.PDFDictionary(
            # A Filter entry tells PDFStream the content is encoded already.
            {"Filter": pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])}
        ),
        content=data,
    )


class _CachedFont(TTFont):  # type: ignore[misc]  # untyped library class
    """A TrueType font whose per-subset PDF parts (the /Widths array and the
    deflated ToUnicode map) are built once per process, like its face's font
    stream, and whose four objects per subset (ToUnicode map, font program,
    descriptor, font dictionary) are formatted once per process too
    (`formatted.Formatted`): formatting them was most of a one-page PDF's
    write time."""

    def addObjects(self, doc: Any) -> None:
        face: _CachedFace = self.face
        state = self._assignState(doc)
        state.frozen = 1
        fonts = doc.idToObject["BasicFonts"].dict
        for n, subset in enumerate(state.subsets):
            internal = self.getSubsetInternalName(n, doc)[1:]
            base = (SUBSETN(n) + b"+" + face.name + face.subfontNameX).decode("pdfdoc")
            glyphs = tuple(subset)
            to_unicode = "toUnicodeCMap:" + base
            descriptor = "fontDescriptor:" + base

            # Registered in ReportLab's order (map, program, descriptor, font),
            # so object numbers, and bytes, are what they were uncached.
            doc.Reference(
                Formatted(
                    ("toUnicode", face, base, glyphs),
                    (),
                    partial(_to_unicode_stream, face, base, subset),
                ),
                to_unicode,
            )
            face.addSubsetObjects(doc, base, subset)
            font = Formatted(
                ("font", face, internal, base, glyphs),
                (to_unicode, descriptor),
                partial(_font_dict, face, internal, base, subset),
            )
            doc.Reference(font, internal)
            fonts[internal] = font
        del self.state[doc]


def _to_unicode_stream(
    face: _CachedFace, base: str, subset: list[int]
) -> pdfdoc.PDFStream:
    return _deflated_stream(face.subset_parts(base, subset)[1])


def _font_dict(
    face: _CachedFace, internal: str, base: str, subset: list[int]
) -> pdfdoc.PDFTrueTypeFont:
    font = pdfdoc.PDFTrueTypeFont()
    font.Name = internal
    font.BaseFont = base
    font.FirstChar = 0
    font.LastChar = len(subset) - 1
    font.Widths = _Literal(face.subset_parts(base, subset)[0])
    font.ToUnicode = pdfdoc.PDFObjectReference("toUnicodeCMap:" + base)
    font.FontDescriptor = pdfdoc.PDFObjectReference("fontDescriptor:" + base)
    return font


@cache
def register_fonts() -> None:
    """Register the family once per process (idempotent, thread-safe enough:
    `functools.cache` may run it twice in a race, which registers equal fonts)."""
    # Page streams deflated only: ASCII85 on top makes them 25 % bigger for
    # the sake of 7-bit transports nobody uses for PDFs any more.
    rl_config.useA85 = 0
    for name, filename, style in _FACES:
        font = _CachedFont(name, io.BytesIO(lean_font_bytes(filename, style)))
        face = font.face
        face.__class__ = _CachedFace
        # Advance widths rounded to 0.1 of 1/1000 em (far below a printer dot)
        # print as "599.6" instead of "599.6094" in every font's /Widths, and
        # line breaking measures with the same numbers.
        face.charWidths = {c: round(w, 1) for c, w in face.charWidths.items()}
        face.defaultWidth = round(face.defaultWidth, 1)
        face._streams = OrderedDict()
        face._parts = OrderedDict()
        face._lock = threading.Lock()
        pdfmetrics.registerFont(font)
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, ITALIC)
    addMapping(REGULAR, 1, 1, BOLD_ITALIC)


@cache
def _claimed_state(name: str) -> Any:
    """The subset state of font `name` in a fresh document once it claimed
    `SPANISH_GLYPHS` (ReportLab's own result, computed once per process)."""
    probe = pdfdoc.PDFDocument(invariant=1)
    font = pdfmetrics.getFont(name)
    font.splitString(SPANISH_GLYPHS, probe)
    return font.state.pop(probe)


def claim_glyphs(canvas: Canvas, *fonts: str) -> None:
    """Claim `SPANISH_GLYPHS` in `fonts` for this document, before any text is
    drawn, so the first subset of each face is the cached one."""
    doc = canvas._doc
    for name in fonts:
        font = pdfmetrics.getFont(name)
        if doc in font.state or not isinstance(font, _CachedFont):
            font.splitString(SPANISH_GLYPHS, doc)
            continue
        # A copy of the claimed state instead of claiming again: what
        # `splitString` would leave, without its per-character loop.
        claimed = _claimed_state(name)
        state = copy.copy(claimed)
        state.assignments = dict(claimed.assignments)
        state.subsets = [list(subset) for subset in claimed.subsets]
        font.state[doc] = state


def warm_fonts() -> None:
    """Build every face's usual subset stream now (a few ms per face), e.g. in
    a freshly forked worker process, so the first document does not pay it."""
    register_fonts()
    names = [name for name, _, _ in _FACES]
    canvas = Canvas(io.BytesIO(), invariant=1)
    claim_glyphs(canvas, *names)
    for name in names:
        canvas.setFont(name, 10)
        canvas.drawString(10, 10, "a")
    canvas.showPage()
    canvas.save()
