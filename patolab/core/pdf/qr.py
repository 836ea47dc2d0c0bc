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
import operator
import re
from collections.abc import Callable, Sequence
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
QUIET_ZONE_MODULES = 4  # ISO/IEC 18004 quiet zone
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


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
def _rs_rows(ec_count: int) -> tuple[int, ...]:
    """For each leading factor, the generator times that factor as one big int
    of `ec_count` bytes: long division becomes a shift and an XOR per byte."""
    gen = [LOG_TABLE[c] for c in _generator(ec_count).num[1:]]
    rows = [0]
    for factor in range(1, 256):
        lf = LOG_TABLE[factor]
        rows.append(
            int.from_bytes(bytes(EXP_TABLE[(lf + g) % 255] for g in gen), "big")
        )
    return tuple(rows)


def _ec_bytes(data: list[int], ec_count: int) -> list[int]:
    """Reed-Solomon remainder by table-driven long division."""
    rows = _rs_rows(ec_count)
    shift = 8 * (ec_count - 1)
    mask = (1 << (8 * ec_count)) - 1
    rem = 0
    for byte in data:
        rem = ((rem << 8) & mask) ^ rows[(rem >> shift) ^ byte]
    return list(rem.to_bytes(ec_count, "big"))


@cache
def _blocks(version: int, level: int) -> tuple[tuple[int, int], ...]:
    """(data codewords, total codewords) of each block."""
    return tuple(
        (b.dataCount, b.totalCount) for b in QRRSBlock.getRSBlocks(version, level)
    )


def _byte_mode_version(length: int, level: int) -> int:
    for version in range(1, 41):
        length_bits = 8 if version < 10 else 16
        capacity = 8 * sum(d for d, _ in _blocks(version, level))
        if 4 + length_bits + 8 * length <= capacity:
            return version
    raise ValueError("code length overflow")


def _byte_mode_payload(data: bytes, version: int, level: int) -> list[int]:
    """Data codewords of one byte-mode segment (mode, length, bytes,
    terminator, bit padding and pad codewords), as ISO/IEC 18004 lays them."""
    length_bits = 8 if version < 10 else 16
    capacity = 8 * sum(d for d, _ in _blocks(version, level))
    bits = (((0b0100 << length_bits) | len(data)) << (8 * len(data))) | int.from_bytes(
        data, "big"
    )
    count = 4 + length_bits + 8 * len(data)
    terminator = min(4, capacity - count)
    bits <<= terminator
    count += terminator
    padding = -count % 8
    bits <<= padding
    count += padding
    payload = list(bits.to_bytes(count // 8, "big"))
    pads = itertools.cycle((QRCode.PAD0, QRCode.PAD1))
    while len(payload) * 8 < capacity:
        payload.append(next(pads))
    return payload


def _interleave(version: int, level: int, payload: list[int]) -> list[int]:
    dc: list[list[int]] = []
    ec: list[list[int]] = []
    offset = 0
    for data_count, total in _blocks(version, level):
        chunk = payload[offset : offset + data_count]
        offset += data_count
        dc.append(chunk)
        ec.append(_ec_bytes(chunk, total - data_count))
    return [
        d
        for group in itertools.chain(
            itertools.zip_longest(*dc), itertools.zip_longest(*ec)
        )
        for d in group
        if d is not None
    ]


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
    return _interleave(version, level, payload)


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
    # Pick from the codeword bit string (at its length: a light module) every
    # cell, row by row (right to left) and column by column (itemgetters: one
    # C call for the whole permutation).
    row_order: Callable[[str], tuple[str, ...]]
    col_order: Callable[[str], tuple[str, ...]]
    # For the penalty: every row (and every column) laid end to end as one
    # integer, in the order of `row_order` (`col_order`).
    blank_rows: int
    blank_cols: int
    mask_rows: tuple[int, ...]
    mask_cols: tuple[int, ...]
    final_rows: tuple[int, ...]
    # Window starts that stay inside one line, for runs of 5, finder-like
    # patterns of 11 and 2x2 blocks.
    valid5: int
    valid11: int
    valid2: int


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
    return _Template(
        n,
        positions,
        tuple(data_pos),
        blank,
        tuple(masks),
        tuple(finals),
        *_cell_orders(positions, n),
        _pack(blank, n),
        _pack(_transpose(blank, n), n),
        tuple(_pack(rows, n) for rows in masks),
        tuple(_pack(_transpose(rows, n), n) for rows in masks),
        tuple(_pack(rows, n) for rows in finals),
        _windows(n, 5),
        _windows(n, 11),
        _windows(n, 2) & ((1 << (n * n - n)) - 1),
    )


def _pack(lines: Sequence[int], n: int) -> int:
    """Lines of n bits (bit c = position c) end to end, the first line as the
    most significant: the same order as `_Template.row_order` strings."""
    return int("".join(format(x, f"0{n}b") for x in lines), 2)


def _windows(n: int, width: int) -> int:
    """Bits p of an n-line packing where a window p..p+width-1 fits in its line."""
    line = (1 << (n - width + 1)) - 1
    return sum(line << (i * n) for i in range(n))


def _cell_orders(
    positions: Sequence[tuple[int, int]], n: int
) -> tuple[Callable[[str], tuple[str, ...]], Callable[[str], tuple[str, ...]]]:
    light = len(positions)
    index = {cell: i for i, cell in enumerate(positions)}
    rows = tuple(
        index.get((c, r), light) for r in range(n) for c in range(n - 1, -1, -1)
    )
    cols = tuple(
        index.get((c, r), light) for c in range(n) for r in range(n - 1, -1, -1)
    )
    return operator.itemgetter(*rows), operator.itemgetter(*cols)


def _transpose(rows: Sequence[int], n: int) -> tuple[int, ...]:
    cols = [0] * n
    for r, row in enumerate(rows):
        for c in range(n):
            if row >> c & 1:
                cols[c] |= 1 << r
    return tuple(cols)


def _penalty(rows: int, cols: int, tpl: _Template) -> int:
    """ISO/IEC 18004 mask penalty (rules 1 to 4), bit-parallel on every row
    (and column) at once: runs and patterns are found with shifts and masks
    of one integer per direction instead of per line and per module."""
    n = tpl.n
    score = 0
    for lines in (rows, cols):
        s1, s2, s3 = lines >> 1, lines >> 2, lines >> 3
        # Rule 1: a run of L >= 5 equal modules scores L - 2: (L - 4) windows
        # of five equal modules, plus 2 per run (a group of such windows).
        same = ~(lines ^ s1)
        fives = same & (same >> 1) & (same >> 2) & (same >> 3) & tpl.valid5
        score += fives.bit_count() + 2 * (fives & ~(fives << 1)).bit_count()
        # Rule 3: 1:1:3:1:1 with four light modules on a side, both ways: the
        # dark-light-dark-dark-dark-light-dark core starting at p, and four
        # light modules starting at p (the core at p + 4) or at p + 7.
        core = lines & ~s1 & s2 & s3 & (lines >> 4) & ~(lines >> 5) & (lines >> 6)
        light4 = ~(lines | s1 | s2 | s3)
        before = light4 & (core >> 4) & tpl.valid11
        after = core & (light4 >> 7) & tpl.valid11
        score += 40 * (before.bit_count() + after.bit_count())
    # Rule 2: 2x2 blocks of one colour (row p and row p + 1 are n bits apart).
    below = rows >> n
    blocks = (
        ~(rows ^ below) & ~(rows ^ (rows >> 1)) & ~(below ^ (below >> 1)) & tpl.valid2
    )
    score += 3 * blocks.bit_count()
    # Rule 4: balance of dark modules.
    dark = rows.bit_count()
    score += 10 * (abs(100 * dark // (n * n) - 50) // 5)
    return score


def _encode(value: str, level: int) -> tuple[int, list[int]]:
    """(version, interleaved codewords). Byte mode is packed here directly;
    numeric and alphanumeric values go through ReportLab's segment writers."""
    if value.isdigit() or set(value) <= _ALNUM:
        qr = QRCode(None, level)
        qr.addData(value)
        version = qr.calculate_version()
        return version, _codewords(version, level, qr)
    data = value.encode("utf-8")
    version = _byte_mode_version(len(data), level)
    return version, _interleave(
        version, level, _byte_mode_payload(data, version, level)
    )


@lru_cache(maxsize=4096)
def qr_rows(value: str, level: str = "M") -> tuple[str, ...]:
    """The symbol (no quiet zone) as strings of "0"/"1", one per row, left to
    right. Cached per value: every container label of a protocol shares it."""
    version, codewords = _encode(value, LEVELS[level])
    tpl = _template(version, LEVELS[level])
    n = tpl.n
    # Place the bits with two C-level permutations of the bit string (one per
    # direction) instead of a Python loop over every module.
    bits = bytes(codewords).hex()
    stream = format(int(bits, 16), f"0{4 * len(bits)}b").ljust(len(tpl.positions), "0")
    stream += "0"
    data_rows = int("".join(tpl.row_order(stream)), 2)
    data_cols = int("".join(tpl.col_order(stream)), 2)
    best = min(
        range(8),
        key=lambda m: _penalty(
            tpl.blank_rows | (data_rows ^ tpl.mask_rows[m]),
            tpl.blank_cols | (data_cols ^ tpl.mask_cols[m]),
            tpl,
        ),
    )
    symbol = format(
        tpl.final_rows[best] | (data_rows ^ tpl.mask_rows[best]), f"0{n * n}b"
    )
    return tuple(symbol[i : i + n][::-1] for i in range(0, n * n, n))


def qr_modules(value: str, level: str = "M") -> int:
    """Number of modules per side (without quiet zone) for `value`."""
    return len(qr_rows(value, level))


_RUN = re.compile("1+")
# Every coordinate of a symbol (version 40 is 177 modules; quiet zones are 4).
_NUMBERS = tuple(str(i) for i in range(512))


@lru_cache(maxsize=4096)
def _path_ops(value: str, level: str, quiet: int) -> str:
    """PDF path operators for the dark modules, in module units with the origin
    at the bottom-left corner of the quiet zone: one `re` per horizontal run
    (found by the regex engine, numbers from a table: ~0.3 us per run)."""
    rows = qr_rows(value, level)
    top = len(rows) + quiet - 1
    ops: list[str] = []
    add = ops.append
    for r, row in enumerate(rows):
        y = _NUMBERS[top - r]
        for run in _RUN.finditer(row):
            start, end = run.span()
            add(f"{_NUMBERS[quiet + start]} {y} {_NUMBERS[end - start]} 1 re")
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
