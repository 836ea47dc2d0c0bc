"""Vector QR codes for every PDF (reports, labels), fast enough for the hot path.

ReportLab's own QR widget is correct but slow; this module reuses its encoder.

ReportLab's `QrCodeWidget` builds one `Rect` object per dark module and picks
the mask by rebuilding the whole symbol eight times in pure Python: ~30 ms per
code, about 20 times the label budget. Here ReportLab still does the encoding
(data bits, Reed-Solomon, function patterns, format info); we only rebuild the
eight masked candidates as row bitmasks, score them with the ISO/IEC 18004
penalty rules on strings, and cache the result per value. Drawing is a single
vector path (one rectangle per horizontal run of dark modules).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache, lru_cache

from reportlab.graphics.barcode.qrencoder import (
    EXP_TABLE,
    LOG_TABLE,
    QRBitBuffer,
    QRCode,
    QRErrorCorrectLevel,
    QRMath,
    QRPolynomial,
    QRRSBlock,
    QRUtil,
)
from reportlab.pdfgen.canvas import Canvas

LEVELS = {
    "L": QRErrorCorrectLevel.L,
    "M": QRErrorCorrectLevel.M,
    "Q": QRErrorCorrectLevel.Q,
    "H": QRErrorCorrectLevel.H,
}
_RUN5 = re.compile(r"00000+|11111+")  # faster than 0{5,}|1{5,}
_FINDER = ("10111010000", "00001011101")  # neither overlaps itself
_DARK_RUN = re.compile(r"1+")
QUIET_ZONE_MODULES = 4  # ISO/IEC 18004 quiet zone


def _row_int(row: list[bool]) -> int:
    value = 0
    for c, dark in enumerate(row):
        if dark:
            value |= 1 << c
    return value


@cache
def _generator(ec_count: int) -> QRPolynomial:
    """Reed-Solomon generator polynomial (ReportLab recomputes it per block)."""
    poly = QRPolynomial([1], 0)
    for i in range(ec_count):
        poly = poly.multiply(QRPolynomial([1, QRMath.gexp(i)], 0))
    return poly


@cache
def _generator_logs(ec_count: int) -> tuple[int, ...]:
    return tuple(LOG_TABLE[c] for c in _generator(ec_count).num[1:])


def _ec_bytes(data: list[int], ec_count: int) -> list[int]:
    """Reed-Solomon remainder by table-driven long division."""
    gen = _generator_logs(ec_count)
    rem = [0] * ec_count
    for byte in data:
        factor = byte ^ rem[0]
        rem = [*rem[1:], 0]
        if factor:
            lf = LOG_TABLE[factor]
            rem = [r ^ EXP_TABLE[(lf + g) % 255] for r, g in zip(rem, gen, strict=True)]
    return rem


def _codewords(version: int, level: int, qr: QRCode) -> list[int]:
    """ReportLab's `createData` (same bits, padding and interleaving) with a
    table-driven Reed-Solomon step instead of its polynomial objects."""
    blocks = QRRSBlock.getRSBlocks(version, level)
    buffer = QRBitBuffer()
    for segment in qr.dataList:
        segment.write(buffer, version)
    capacity = 8 * sum(block.dataCount for block in blocks)
    if buffer.getLengthInBits() > capacity:
        raise ValueError("code length overflow")
    if buffer.getLengthInBits() + 4 <= capacity:
        buffer.put(0, 4)
    while buffer.getLengthInBits() % 8:
        buffer.putBit(False)
    payload = list(buffer.buffer)
    pads = itertools.cycle((QRCode.PAD0, QRCode.PAD1))
    while len(payload) * 8 < capacity:
        payload.append(next(pads))
    dc: list[list[int]] = []
    ec: list[list[int]] = []
    offset = 0
    for block in blocks:
        chunk = payload[offset : offset + block.dataCount]
        offset += block.dataCount
        dc.append(chunk)
        ec.append(_ec_bytes(chunk, block.totalCount - block.dataCount))
    return [
        d
        for group in itertools.chain(
            itertools.zip_longest(*dc), itertools.zip_longest(*ec)
        )
        for d in group
        if d is not None
    ]


@dataclass(frozen=True)
class _Template:
    """What depends only on (version, level): data positions, the function
    patterns with blank format info, per-mask flips, per-mask format info."""

    n: int
    positions: tuple[tuple[int, int], ...]
    data_pos: tuple[int, ...]
    func_blank: tuple[int, ...]
    masks: tuple[tuple[int, ...], ...]
    func_final: tuple[tuple[int, ...], ...]


@cache
def _template(version: int, level: int) -> _Template:
    qr = QRCode(version, level)
    qr.makeImpl(True, 0)
    n = qr.moduleCount
    positions = tuple(qr.dataPosIterator())
    data_pos = [0] * n
    for c, r in positions:
        data_pos[r] |= 1 << c
    blank = tuple(_row_int(row) & ~data_pos[r] for r, row in enumerate(qr.modules))
    masks = []
    finals = []
    for m in range(8):
        fn = QRUtil.getMask(m)
        rows = [0] * n
        for c, r in positions:
            if fn(r, c):
                rows[r] |= 1 << c
        masks.append(tuple(rows))
        qr.setupTypeInfo(False, m)
        if version >= 7:
            qr.setupTypeNumber(False)
        finals.append(
            tuple(_row_int(row) & ~data_pos[r] for r, row in enumerate(qr.modules))
        )
    return _Template(n, positions, tuple(data_pos), blank, tuple(masks), tuple(finals))


def _penalty(rows: list[int], n: int) -> int:
    """ISO/IEC 18004 mask penalty (rules 1 to 4) on row bitmasks."""
    lines = [format(x, f"0{n}b") for x in rows]
    columns = ["".join(col) for col in zip(*lines, strict=True)]
    text = "2".join(lines + columns)
    score = sum(len(run) - 2 for run in _RUN5.findall(text))
    score += 40 * sum(text.count(pattern) for pattern in _FINDER)
    full = (1 << n) - 1
    inner = (1 << (n - 1)) - 1
    for a, b in itertools.pairwise(rows):
        same = (full ^ (a ^ b)) & (full ^ (a ^ (a >> 1))) & (full ^ (b ^ (b >> 1)))
        score += 3 * (same & inner).bit_count()
    dark = sum(x.bit_count() for x in rows)
    score += 10 * (abs(100 * dark // (n * n) - 50) // 5)
    return score


@lru_cache(maxsize=4096)
def qr_rows(value: str, level: str = "M") -> tuple[str, ...]:
    """The symbol (no quiet zone) as strings of "0"/"1", one per row, left to
    right. Cached per value: every container label of a protocol shares it."""
    qr = QRCode(None, LEVELS[level])
    qr.addData(value)
    version = qr.calculate_version()
    tpl = _template(version, LEVELS[level])
    data = [0] * tpl.n
    index = 0
    positions = tpl.positions
    for byte in _codewords(version, LEVELS[level], qr):
        for shift in range(7, -1, -1):
            if byte >> shift & 1:
                c, r = positions[index]
                data[r] |= 1 << c
            index += 1
    best = min(
        range(8),
        key=lambda m: _penalty(
            [
                f | (d ^ k)
                for f, d, k in zip(tpl.func_blank, data, tpl.masks[m], strict=True)
            ],
            tpl.n,
        ),
    )
    rows = [
        f | (d ^ k)
        for f, d, k in zip(tpl.func_final[best], data, tpl.masks[best], strict=True)
    ]
    return tuple(format(x, f"0{tpl.n}b")[::-1] for x in rows)


def qr_modules(value: str, level: str = "M") -> int:
    """Number of modules per side (without quiet zone) for `value`."""
    return len(qr_rows(value, level))


@lru_cache(maxsize=4096)
def _path_ops(value: str, level: str, quiet: int) -> str:
    """PDF path operators for the dark modules, in module units with the origin
    at the bottom-left corner of the quiet zone: one `re` per horizontal run."""
    rows = qr_rows(value, level)
    n = len(rows)
    ops = []
    for r, line in enumerate(rows):
        row_y = n + quiet - 1 - r
        for run in _DARK_RUN.finditer(line):
            ops.append(f"{quiet + run.start()} {row_y} {run.end() - run.start()} 1 re")
    return "\n".join(ops)


def draw_qr_path(
    canvas: Canvas,
    value: str,
    x: float,
    y: float,
    module: float,
    *,
    level: str = "M",
    quiet: int = QUIET_ZONE_MODULES,
) -> None:
    """Draw the symbol as one filled vector path in black; (x, y) is the
    bottom-left corner of the quiet zone, `module` the module size in points.

    The operators are written with `addLiteral` under a scaling matrix, so the
    cached integer path is reused as is (ReportLab's pure-Python number
    formatting was most of the label render time).
    """
    ops = _path_ops(value, level, quiet)
    canvas.addLiteral(
        f"q 0 g {module:.5f} 0 0 {module:.5f} {x:.5f} {y:.5f} cm\n{ops}\nf Q"
    )


def draw_qr(
    canvas: Canvas,
    value: str,
    x: float,
    y: float,
    size: float,
    *,
    level: str = "M",
    border: int = QUIET_ZONE_MODULES,
) -> None:
    """Draw a QR code `size` points wide (quiet zone included) with the quiet
    zone's bottom-left corner at x, y."""
    module = size / (qr_modules(value, level) + 2 * border)
    draw_qr_path(canvas, value, x, y, module, level=level, quiet=border)
