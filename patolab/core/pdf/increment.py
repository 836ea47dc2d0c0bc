"""Read the last revision of a PDF our renderers wrote and append an
incremental update to it (ISO 32000-1, 7.5.6): new objects and new versions of
existing ones, a cross-reference section for them and a trailer pointing back
at the previous one. The signer (`signing.py`) uses it to add the PDF/A parts
and the signature in one revision.

It reads what ReportLab writes (a classic cross-reference table, objects that
are plain dictionaries, no object streams) and refuses anything else with
`UnsupportedPdf`; it is not a general PDF parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF")
_REF = rb"(\d+)\s+0\s+R"


class UnsupportedPdf(ValueError):
    """The PDF is not in the form this module reads."""


@dataclass(frozen=True)
class Revision:
    """The last revision of a PDF: where each object is, and its trailer."""

    data: bytes
    startxref: int
    offsets: dict[int, int]
    size: int
    root: int
    info: int | None
    first_id: bytes

    def dictionary(self, number: int) -> bytes:
        """The text of object `number`, a dictionary, from `<<` to `>>`."""
        offset = self.offsets.get(number)
        if offset is None:
            raise UnsupportedPdf(f"object {number} is not in the last revision")
        end = self.data.find(b"endobj", offset)
        body = self.data[offset:end]
        if not body.startswith(b"%d 0 obj" % number) or b"stream" in body:
            raise UnsupportedPdf(f"object {number} is not a plain dictionary")
        start, stop = body.find(b"<<"), body.rfind(b">>")
        if start < 0 or stop < start:
            raise UnsupportedPdf(f"object {number} is not a dictionary")
        return body[start : stop + 2]

    def first_page(self) -> int:
        """The object number of the first page."""
        node = _ref(self.dictionary(self.root), b"/Pages")
        for _ in range(32):
            text = self.dictionary(node)
            if re.search(rb"/Type\s*/Page\b(?!s)", text):
                return node
            kids = re.search(rb"/Kids\s*\[\s*" + _REF, text)
            if kids is None:
                raise UnsupportedPdf("a page tree node without kids")
            node = int(kids.group(1))
        raise UnsupportedPdf("the page tree is too deep")


def _ref(text: bytes, key: bytes) -> int:
    found = re.search(re.escape(key) + rb"\s+" + _REF, text)
    if found is None:
        raise UnsupportedPdf(f"no {key.decode()} reference")
    return int(found.group(1))


def read_revision(data: bytes) -> Revision:
    """Parse the trailer and cross-reference table at the end of `data`."""
    # The last one: a comment may follow %%EOF.
    window = len(data) - min(len(data), 1024)
    tail = max(_STARTXREF.finditer(data, window), key=lambda m: m.start(), default=None)
    if tail is None:
        raise UnsupportedPdf("no startxref at the end")
    startxref = int(tail.group(1))
    trailer_at = data.rfind(b"trailer", startxref)
    if not data.startswith(b"xref", startxref) or trailer_at < 0:
        raise UnsupportedPdf("no cross-reference table")
    offsets: dict[int, int] = {}
    lines = data[startxref + 4 : trailer_at].split()
    at = 0
    while at < len(lines):
        first, count = int(lines[at]), int(lines[at + 1])
        at += 2
        for number in range(first, first + count):
            offset, _gen, kind = lines[at : at + 3]
            if kind == b"n":
                offsets[number] = int(offset)
            at += 3
    trailer = data[trailer_at : tail.start()]
    size = re.search(rb"/Size\s+(\d+)", trailer)
    ids = re.search(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>", trailer)
    if size is None or ids is None or b"/Encrypt" in trailer:
        raise UnsupportedPdf("a trailer without /Size or /ID, or encrypted")
    info = re.search(rb"/Info\s+" + _REF, trailer)
    return Revision(
        data=data,
        startxref=startxref,
        offsets=offsets,
        size=int(size.group(1)),
        root=_ref(trailer, b"/Root"),
        info=int(info.group(1)) if info else None,
        first_id=ids.group(1),
    )


def with_entries(dictionary: bytes, entries: bytes) -> bytes:
    """`dictionary` (`<< … >>`) with `entries` added before its end."""
    return dictionary[:-2].rstrip() + b"\n" + entries + b"\n>>"


def append_update(
    revision: Revision,
    objects: dict[int, bytes],
    *,
    info: int | None,
    new_id: bytes,
) -> bytearray:
    """The PDF with one more revision holding `objects` (number -> the body
    between `N 0 obj` and `endobj`)."""
    out = bytearray(revision.data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref_at = len(out)
    size = max(revision.size, max(objects) + 1)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    numbers = sorted(offsets)
    run_start = 0
    for at in range(1, len(numbers) + 1):
        if at == len(numbers) or numbers[at] != numbers[at - 1] + 1:
            run = numbers[run_start:at]
            out += b"%d %d\n" % (run[0], len(run))
            for number in run:
                out += b"%010d 00000 n \n" % offsets[number]
            run_start = at
    out += b"trailer\n<<\n/Size %d\n/Root %d 0 R\n" % (size, revision.root)
    if info is not None:
        out += b"/Info %d 0 R\n" % info
    out += b"/ID [ <%s> <%s> ]\n/Prev %d\n>>\nstartxref\n%d\n%%%%EOF\n" % (
        revision.first_id,
        new_id,
        revision.startxref,
        xref_at,
    )
    return out


# ---------------------------------------------------------------- PDF values
def text_string(value: str) -> bytes:
    """A PDF text string: a literal in PDFDocEncoding when every character
    has the same code there as in Latin-1, else UTF-16BE with a byte-order
    mark."""
    if all(
        " " <= ch <= "~" or ("\xa1" <= ch <= "\xff" and ch != "\xad") for ch in value
    ):
        escaped = bytearray(b"(")
        for b in value.encode("latin-1"):
            if b in b"()\\":
                escaped += b"\\" + bytes([b])
            elif b >= 0x80:
                escaped += b"\\%03o" % b
            else:
                escaped.append(b)
        return bytes(escaped + b")")
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode() + b">"


def date_string(moment: datetime) -> bytes:
    """A PDF date (`D:YYYYMMDDHHmmSS+HH'mm'`); a naive datetime is UTC."""
    moment = as_aware(moment)
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return (
        moment.strftime("(D:%Y%m%d%H%M%S") + f"{sign}{hours:02d}'{minutes:02d}')"
    ).encode()


def as_aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
