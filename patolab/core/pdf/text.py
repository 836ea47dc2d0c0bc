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
    text_width(" ", font, 1.0)  # the memo for this font exists from here on
    # Word widths straight from the memo (the same numbers `text_width`
    # gives): one dict lookup per word instead of two calls, the bulk of a
    # report's line breaking.
    known = _WIDTHS[font].get
    for raw in text.split("\n"):
        words: list[tuple[str, float]] = []
        for word in raw.split():
            unit = known(word)
            if unit is None:
                unit = text_width(word, font, 1.0)
            w = unit * size
            if w > width:
                words += [
                    (part, text_width(part, font, size))
                    for part in _split_long_word(word, font, size, width)
                ]
            else:
                words.append((word, w))
        if not words:
            result.append(("", 0.0, True))
            continue
        line: list[str] = []
        line_width = 0.0
        for word, w in words:
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
    text = str(text)  # lazy translations, numbers
    lines = []
    natural = text_width(text, font, size) if "\n" not in text else width + 1
    broken = (
        [(text, natural, True)]
        if natural <= width
        and "  " not in text
        and "\t" not in text
        and text == text.strip()
        else break_lines(text, font, size, width)
    )
    for i, (line, natural, last) in enumerate(broken):
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


_TABLES: dict[tuple[str, bytes], tuple[dict[int, str], frozenset[str]]] = {}


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
        try:
            # What `splitString` returns when every character is assigned a
            # code of subset 0 already (after `claim_glyphs`), without its
            # per-character loop.
            codes = bytes(map(face.state[doc].assignments.__getitem__, map(ord, chars)))
        except (AttributeError, KeyError, ValueError):
            parts = face.splitString(chars, doc)
            codes = parts[0][1] if len(parts) == 1 and parts[0][0] == 0 else b""
        # The codes are the same in every document that claimed the glyphs
        # first, so the table is built once per process.
        table = _TABLES.get((font, codes))
        if table is None:
            mapping = (
                {
                    ord(ch): _escape_code(code)
                    for ch, code in zip(chars, codes, strict=True)
                }
                if codes
                else {}
            )
            table = _TABLES[(font, codes)] = (mapping, frozenset(map(chr, mapping)))
        entry = cache[font] = (face.getSubsetInternalName(0, doc), *table)
    return entry


_FILL_OPS: dict[tuple[float, float, float], str] = {}


def _fill_op(color: Color) -> str:
    key = (color.red, color.green, color.blue)
    op = _FILL_OPS.get(key)
    if op is None:
        op = _FILL_OPS[key] = f"{key[0]:.4g} {key[1]:.4g} {key[2]:.4g} rg"
    return op


@dataclass(frozen=True, slots=True)
class TextRun:
    """A string at an absolute baseline position."""

    x: float
    y: float
    font: str
    size: float
    text: str
    color: Color = black
    word_space: float = 0.0


def draw_runs(canvas: Canvas, runs: Iterable[TextRun], dy: float = 0.0) -> None:
    """Draw `runs` as one text object, written as PDF operators directly with
    the text encoded by one `str.translate` per run (ReportLab's text object
    re-encodes character by character). A run with a character outside the
    claimed set goes through ReportLab's text object instead."""
    ops = ["BT"]
    font: tuple[str, float] | None = None
    color: Color | None = None
    word_space = 0.0
    for run in runs:
        if not run.text:
            continue
        name, table, known = _encoder(canvas, run.font)
        if not known.issuperset(run.text):
            ops.append("ET")
            canvas._code.append("\n".join(ops))
            ops = ["BT"]
            font, color, word_space = None, None, 0.0
            fallback = canvas.beginText(run.x, run.y + dy)
            fallback.setFont(run.font, run.size)
            fallback.setFillColor(run.color)
            fallback.setWordSpace(run.word_space)
            fallback.textOut(run.text)
            canvas.drawText(fallback)
            continue
        if (run.font, run.size) != font:
            font = (run.font, run.size)
            ops.append(f"{name} {run.size:g} Tf")
        if run.color is not color:
            color = run.color
            ops.append(_fill_op(run.color))
        if run.word_space != word_space:
            word_space = run.word_space
            ops.append(f"{word_space:.3f} Tw")
        ops.append(
            f"1 0 0 1 {run.x:.2f} {run.y + dy:.2f} Tm ({run.text.translate(table)}) Tj"
        )
    ops.append("ET")
    canvas._code.append("\n".join(ops))


def draw_lines(
    canvas: Canvas, lines: Iterable[TextLine], x: float, top: float
) -> float:
    """Draw `lines` from `top` down (see `draw_runs`); returns the bottom."""
    runs = []
    y = top
    for line in lines:
        y -= line.gap + line.leading
        baseline = y + (line.leading - (ASCENT + DESCENT) * line.size) / 2
        runs.append(
            TextRun(
                x + line.x,
                baseline + DESCENT * line.size,
                line.font,
                line.size,
                line.text,
                line.color,
                line.word_space,
            )
        )
    draw_runs(canvas, runs)
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


@dataclass(frozen=True)
class TableColumn:
    width: float
    align: str = "left"  # or "right"


@dataclass(frozen=True)
class TableStyle:
    font: str
    bold: str
    size: float = 8.5
    leading: float = 10.5
    padding: float = 3.0  # above and below each row
    side: float = 6.0  # left and right inside each cell
    header_color: Color = black
    header_text: Color = black
    rule: Color = black


class Table(Flowable):  # type: ignore[misc]  # untyped library class
    """A header row on a coloured band and body rows with a thin rule below
    each; cells wrap in their column. Splits between rows, repeating the
    header. `bold_rows` are body rows (indexes) printed in the bold face."""

    def __init__(
        self,
        header: Sequence[str] | None,
        rows: Sequence[Sequence[str]],
        columns: Sequence[TableColumn],
        style: TableStyle,
        *,
        bold_rows: Iterable[int] = (),
        rules: bool = True,
        rule_above: Iterable[int] = (),
    ) -> None:
        super().__init__()
        self.columns = list(columns)
        self.style = style
        self.rules = rules
        self.rule_above = set(rule_above)
        bold = set(bold_rows)
        self.header = (
            self._layout(header, style.bold, style.header_text) if header else None
        )
        self.rows = [
            self._layout(row, style.bold if i in bold else style.font, black)
            for i, row in enumerate(rows)
        ]
        self.indexes = list(range(len(self.rows)))
        self.width = sum(c.width for c in self.columns)

    def _layout(
        self, row: Sequence[str], font: str, color: Color
    ) -> tuple[float, list[TextRun]]:
        """Runs relative to the row's top-left corner, and the row's height."""
        st = self.style
        cells = []
        tallest = 0.0
        x = 0.0
        for text, column in zip(row, self.columns, strict=False):
            lines = paragraph_lines(
                text,
                font=font,
                size=st.size,
                leading=st.leading,
                width=column.width - 2 * st.side,
                color=color,
                align=column.align,
            )
            cells.append((x + st.side, lines))
            tallest = max(tallest, lines_height(lines))
            x += column.width
        runs = []
        for cell_x, lines in cells:
            y = -st.padding
            for line in lines:
                y -= line.leading
                baseline = y + (line.leading - (ASCENT + DESCENT) * line.size) / 2
                runs.append(
                    TextRun(
                        cell_x + line.x,
                        baseline + DESCENT * line.size,
                        line.font,
                        line.size,
                        line.text,
                        line.color,
                    )
                )
        return tallest + 2 * self.style.padding, runs

    def _height(self, indexes: Sequence[int]) -> float:
        head = self.header[0] if self.header else 0.0
        return head + sum(self.rows[i][0] for i in indexes)

    def wrap(
        self, available_width: float, available_height: float
    ) -> tuple[float, float]:
        self.height = self._height(self.indexes)
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Any]:
        used = self.header[0] if self.header else 0.0
        fit = 0
        for i in self.indexes:
            used += self.rows[i][0]
            if used > available_height + 1e-6:
                break
            fit += 1
        if fit == 0 or fit >= len(self.indexes):
            return []
        first, rest = self._copy(self.indexes[:fit]), self._copy(self.indexes[fit:])
        return [first, rest]

    def _copy(self, indexes: list[int]) -> Table:
        part = Table.__new__(Table)
        Flowable.__init__(part)
        part.__dict__.update(
            {
                k: v
                for k, v in self.__dict__.items()
                if k
                in (
                    "columns",
                    "style",
                    "rules",
                    "rule_above",
                    "header",
                    "rows",
                    "width",
                )
            }
        )
        part.indexes = indexes
        return part

    def draw(self) -> None:
        canvas = self.canv
        st = self.style
        top = self._height(self.indexes)
        if self.header:
            height, header_runs = self.header
            canvas.setFillColor(st.header_color)
            canvas.rect(0, top - height, self.width, height, stroke=0, fill=1)
            draw_runs(canvas, header_runs, top)
            top -= height
        canvas.setStrokeColor(st.rule)
        canvas.setLineWidth(0.25)
        for i in self.indexes:
            height, row_runs = self.rows[i]
            draw_runs(canvas, row_runs, top)
            if i in self.rule_above:
                canvas.setStrokeColor(st.header_color)
                canvas.setLineWidth(0.75)
                canvas.line(0, top, self.width, top)
                canvas.setStrokeColor(st.rule)
                canvas.setLineWidth(0.25)
            top -= height
            if self.rules:
                canvas.line(0, top, self.width, top)


class Runs(Flowable):  # type: ignore[misc]  # untyped library class
    """Fixed layout in the flow: text runs (y from the flowable's bottom) and
    horizontal rules `(x1, x2, y, width, colour)`, `height` points tall."""

    def __init__(
        self,
        height: float,
        runs: Sequence[TextRun],
        rules: Sequence[tuple[float, float, float, float, Color]] = (),
    ) -> None:
        super().__init__()
        self.height = height
        self.runs = list(runs)
        self.rules = list(rules)

    def wrap(
        self, available_width: float, available_height: float
    ) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.height

    def draw(self) -> None:
        for x1, x2, y, width, color in self.rules:
            self.canv.setStrokeColor(color)
            self.canv.setLineWidth(width)
            self.canv.line(x1, y, x2, y)
        draw_runs(self.canv, self.runs)
