"""Plain-text layout for PDFs: fast line breaking and two flowables.

ReportLab's `Paragraph` parses markup, re-measures every word on every wrap
and is wrapped several times per page split; for plain user text that was the
largest share of a report's render time. Here text is broken once, with word
widths memoized per font, into `TextLine`s that platypus flows as ordinary
flowables: `TextBlock` splits between lines (long paragraphs run across pages,
a heading stays with the first lines after it) and `FieldGrid` lays out
label/value pairs in columns. User text is printed literally (no markup).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reportlab.lib.colors import Color, black
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from .fonts import SPANISH_GLYPHS

_WIDTHS: dict[str, dict[str, float]] = {}
_WIDTHS_MAX = 50_000  # words per font before the memo starts over
# Vera's ascent and descent, in em: used to centre a line in its leading.
ASCENT = 0.928
DESCENT = 0.236


def text_width(text: str, font: str, size: float) -> float:
    """Width in points of `text`, memoized per (font, text) at 1 pt."""
    widths = _WIDTHS.get(font)
    if widths is None:
        widths = _WIDTHS[font] = {}
    width = widths.get(text)
    if width is None:
        if len(widths) > _WIDTHS_MAX:
            widths.clear()
        width = widths[text] = pdfmetrics.stringWidth(text, font, 1.0)
    return width * size


def _split_long_word(word: str, font: str, size: float, width: float) -> list[str]:
    parts = []
    while word:
        end = len(word)
        while end > 1 and text_width(word[:end], font, size) > width:
            end -= 1
        parts.append(word[:end])
        word = word[end:]
    return parts


def break_lines(
    text: str, font: str, size: float, width: float
) -> list[tuple[str, float, bool]]:
    """Greedy line breaking of plain text: `(line, natural width, ends a
    paragraph line)`. A newline forces a break; runs of spaces collapse."""
    result: list[tuple[str, float, bool]] = []
    space = text_width(" ", font, size)
    for raw in text.split("\n"):
        words: list[str] = []
        for word in raw.split():
            if text_width(word, font, size) > width:
                words += _split_long_word(word, font, size, width)
            else:
                words.append(word)
        if not words:
            result.append(("", 0.0, True))
            continue
        line: list[str] = []
        line_width = 0.0
        for word in words:
            w = text_width(word, font, size)
            if line and line_width + space + w > width:
                result.append((" ".join(line), line_width, False))
                line, line_width = [word], w
            else:
                line_width += (space + w) if line else w
                line.append(word)
        result.append((" ".join(line), line_width, True))
    return result


@dataclass(frozen=True, slots=True)
class TextLine:
    """One printed line: `gap` is extra space above it, `keep` how many of the
    following lines must stay on its page (a heading's)."""

    text: str
    font: str
    size: float
    leading: float
    color: Color = black
    x: float = 0.0
    word_space: float = 0.0
    gap: float = 0.0
    keep: int = 0


def paragraph_lines(
    text: str,
    *,
    font: str,
    size: float,
    leading: float,
    width: float,
    color: Color = black,
    align: str = "left",
    gap: float = 0.0,
    keep: int = 0,
) -> list[TextLine]:
    """Lines of one paragraph; `align` is left, right, centre or justify."""
    lines = []
    for i, (line, natural, last) in enumerate(break_lines(text, font, size, width)):
        x = 0.0
        word_space = 0.0
        if align == "right":
            x = width - natural
        elif align == "centre":
            x = (width - natural) / 2
        elif align == "justify" and not last and line.count(" "):
            word_space = (width - natural) / line.count(" ")
        lines.append(
            TextLine(
                line,
                font,
                size,
                leading,
                color,
                x,
                word_space,
                gap if i == 0 else 0.0,
                keep if i == 0 else 0,
            )
        )
    return lines


_PRINTABLE = "".join(chr(c) for c in range(32, 127))


def _escape_code(code: int) -> str:
    if code in (0x28, 0x29, 0x5C):  # ( ) backslash
        return "\\" + chr(code)
    if 32 <= code < 127:
        return chr(code)
    return f"\\{code:03o}"


def _encoder(canvas: Canvas, font: str) -> tuple[str, dict[int, str], frozenset[str]]:
    """For this document and font: the subset-0 resource name and a
    `str.translate` table from the characters every document claims (ASCII and
    `SPANISH_GLYPHS`) straight to escaped PDF string text."""
    cache: dict[str, Any] = canvas.__dict__.setdefault("_patolab_encoders", {})
    entry = cache.get(font)
    if entry is None:
        face = pdfmetrics.getFont(font)
        doc = canvas._doc
        chars = _PRINTABLE + SPANISH_GLYPHS
        parts = face.splitString(chars, doc)
        table: dict[int, str] = {}
        if len(parts) == 1 and parts[0][0] == 0:
            table = {
                ord(ch): _escape_code(code)
                for ch, code in zip(chars, parts[0][1], strict=True)
            }
        entry = cache[font] = (
            face.getSubsetInternalName(0, doc),
            table,
            frozenset(chr(c) for c in table),
        )
    return entry


def _fill_op(color: Color) -> str:
    return f"{color.red:.4g} {color.green:.4g} {color.blue:.4g} rg"


def draw_lines(
    canvas: Canvas, lines: Iterable[TextLine], x: float, top: float
) -> float:
    """Draw `lines` from `top` down as one text object; returns the bottom.

    Lines are written as PDF operators directly, the text encoded with one
    `str.translate` (ReportLab's text object re-encodes character by
    character); a line with a character outside the claimed set goes through
    ReportLab's text object instead.
    """
    ops = ["BT"]
    font: tuple[str, float] | None = None
    color: Color | None = None
    word_space = 0.0
    y = top
    for line in lines:
        y -= line.gap + line.leading
        if not line.text:
            continue
        baseline = y + (line.leading - (ASCENT + DESCENT) * line.size) / 2
        baseline += DESCENT * line.size
        name, table, known = _encoder(canvas, line.font)
        if not known.issuperset(line.text):
            ops.append("ET")
            canvas._code.append("\n".join(ops))
            ops = ["BT"]
            font, color, word_space = None, None, 0.0
            fallback = canvas.beginText(x + line.x, baseline)
            fallback.setFont(line.font, line.size)
            fallback.setFillColor(line.color)
            fallback.setWordSpace(line.word_space)
            fallback.textOut(line.text)
            canvas.drawText(fallback)
            continue
        if (line.font, line.size) != font:
            font = (line.font, line.size)
            ops.append(f"{name} {line.size:g} Tf")
        if line.color is not color:
            color = line.color
            ops.append(_fill_op(line.color))
        if line.word_space != word_space:
            word_space = line.word_space
            ops.append(f"{word_space:.3f} Tw")
        ops.append(
            f"1 0 0 1 {x + line.x:.2f} {baseline:.2f} Tm "
            f"({line.text.translate(table)}) Tj"
        )
    ops.append("ET")
    canvas._code.append("\n".join(ops))
    return y


def lines_height(lines: Iterable[TextLine]) -> float:
    return sum(line.gap + line.leading for line in lines)


class TextBlock(Flowable):  # type: ignore[misc]  # untyped library class
    """Pre-broken lines that split between lines across frames and pages.

    The first split point may not leave a heading without the lines it keeps,
    nor a paragraph's first line alone at the bottom of a page.
    """

    def __init__(self, lines: Sequence[TextLine]) -> None:
        super().__init__()
        self.lines = list(lines)
        self.height = lines_height(self.lines)

    def wrap(
        self, available_width: float, available_height: float
    ) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.height

    def split(self, available_width: float, available_height: float) -> list[Any]:
        used = 0.0
        fit = 0
        for line in self.lines:
            used += line.gap + line.leading
            if used > available_height + 1e-6:
                break
            fit += 1
        # Keep headings with their lines: cut before an unsatisfied keep.
        for i in range(fit):
            if self.lines[i].keep and i + self.lines[i].keep >= fit:
                fit = i
                break
        # No lonely first line of a paragraph at the bottom.
        if 0 < fit < len(self.lines) and fit >= 2 and self.lines[fit - 1].gap:
            fit -= 1
        if fit == 0 or fit >= len(self.lines):
            return []
        rest = self.lines[fit:]
        rest[0] = replace(rest[0], gap=0.0)
        return [TextBlock(self.lines[:fit]), TextBlock(rest)]

    def draw(self) -> None:
        draw_lines(self.canv, self.lines, 0.0, self.height)


@dataclass(frozen=True)
class Column:
    width: float
    font: str
    size: float
    leading: float
    color: Color = black
    padding: float = 3.0


class FieldGrid(Flowable):  # type: ignore[misc]  # untyped library class
    """Rows of cells in fixed columns (e.g. label, value, label, value); every
    cell wraps in its column. It does not split: keep it short."""

    def __init__(
        self,
        rows: Sequence[Sequence[str]],
        columns: Sequence[Column],
        *,
        row_gap: float = 1.5,
        rule: tuple[float, Color] | None = None,
    ) -> None:
        super().__init__()
        self.cells: list[tuple[float, float, list[TextLine]]] = []
        top = 0.0
        for row in rows:
            x = 0.0
            tallest = 0.0
            for text, column in zip(row, columns, strict=False):
                lines = paragraph_lines(
                    text,
                    font=column.font,
                    size=column.size,
                    leading=column.leading,
                    width=column.width - column.padding,
                    color=column.color,
                )
                self.cells.append((x, top, lines))
                tallest = max(tallest, lines_height(lines))
                x += column.width
            top += tallest + row_gap
        self.rule = rule
        self.height = top + (1.5 if rule else 0.0)
        self.width = sum(column.width for column in columns)

    def wrap(
        self, available_width: float, available_height: float
    ) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        for x, top, lines in self.cells:
            draw_lines(canvas, lines, x, self.height - top)
        if self.rule:
            width, color = self.rule
            canvas.setStrokeColor(color)
            canvas.setLineWidth(width)
            canvas.line(0, 0.5, self.width, 0.5)
