"""The PDF/A-2b parts the signer adds to a finished PDF, in the revision that
carries the signature (`signing.py`), since ReportLab (open-source) has no
PDF/A option:

- an XMP metadata packet with `pdfaid:part` 2 and `pdfaid:conformance` B and
  the title, author, subject, dates, creator tool and producer, which the
  Info dictionary repeats word for word (PDF/A requires both to agree);
- an sRGB output intent whose ICC profile is read from a Debian package file
  (`icc-profiles-free`, `/usr/share/color/icc/sRGB.icc`, ICC v2) or, where that
  package is missing, the sRGB profile built into Pillow's LittleCMS (ICC v4);
- nothing else: the renderers already embed every font (TrueType subsets), use
  no encryption, no JavaScript and no external references.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings

from .increment import as_aware, date_string, text_string

logger = logging.getLogger(__name__)

DEBIAN_SRGB_PROFILE = "/usr/share/color/icc/sRGB.icc"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"


@dataclass(frozen=True)
class DocumentInfo:
    """What the XMP packet and the Info dictionary both say about a document."""

    title: str
    author: str
    subject: str
    created: datetime
    modified: datetime
    creator: str = "Patolab"


@cache
def srgb_icc_profile() -> bytes:
    """The sRGB ICC profile embedded in the output intent (read once per process)."""
    path = Path(getattr(settings, "PDFA_ICC_PROFILE", "") or DEBIAN_SRGB_PROFILE)
    if path.is_file():
        data = path.read_bytes()
        if len(data) > 128 and data[36:40] == b"acsp" and data[16:20] == b"RGB ":
            return data
        logger.warning("%s is not an RGB ICC profile; using Pillow's sRGB", path)
    else:
        logger.warning(
            "%s not found (Debian package icc-profiles-free); using Pillow's sRGB",
            path,
        )
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return bytes(profile.tobytes())


# The PDF producer named by both the XMP packet and the Info dictionary.
PRODUCER = "Patolab (ReportLab)"


@cache
def output_intent_profile() -> bytes:
    """The ICC profile stream's body (`/N 3`, Flate-compressed), made once per
    process."""
    packed = zlib.compress(srgb_icc_profile())
    return b"<<\n/N 3\n/Filter /FlateDecode\n/Length %d\n>>\nstream\n%s\nendstream" % (
        len(packed),
        packed,
    )


def output_intent(profile: int) -> bytes:
    """The sRGB output intent dictionary, its profile in object `profile`."""
    condition = text_string(OUTPUT_CONDITION)
    return (
        b"<<\n/Type /OutputIntent\n/S /GTS_PDFA1\n/OutputConditionIdentifier %s"
        b"\n/Info %s\n/DestOutputProfile %d 0 R\n>>" % (condition, condition, profile)
    )


QUOTE = {'"': "&quot;"}


def _xmp_date(moment: datetime) -> str:
    return as_aware(moment).isoformat(timespec="seconds")


def xmp_metadata(info: DocumentInfo) -> bytes:
    """The metadata stream's body: an uncompressed XMP packet (PDF/A keeps it
    readable) identifying PDF/A-2b."""
    title, author, subject = (
        escape(v) for v in (info.title, info.author, info.subject)
    )
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about=""'
        ' xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' pdfaid:part="2" pdfaid:conformance="B"'
        f' xmp:CreateDate="{_xmp_date(info.created)}"'
        f' xmp:ModifyDate="{_xmp_date(info.modified)}"'
        f' xmp:CreatorTool="{escape(info.creator, QUOTE)}"'
        f' pdf:Producer="{escape(PRODUCER, QUOTE)}">\n'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li>'
        "</rdf:Alt></dc:title>\n"
        f"<dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>\n"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{subject}'
        "</rdf:li></rdf:Alt></dc:description>\n"
        "</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="r"?>'
    ).encode()
    return (
        b"<<\n/Type /Metadata\n/Subtype /XML\n/Length %d\n>>\nstream\n%s\nendstream"
        % (len(packet), packet)
    )


def info_dictionary(info: DocumentInfo) -> bytes:
    """The Info dictionary saying what `xmp_metadata` says."""
    return (
        b"<<\n/Title %s\n/Author %s\n/Subject %s\n/Creator %s\n/Producer %s"
        b"\n/CreationDate %s\n/ModDate %s\n>>"
        % (
            text_string(info.title),
            text_string(info.author),
            text_string(info.subject),
            text_string(info.creator),
            text_string(PRODUCER),
            date_string(info.created),
            date_string(info.modified),
        )
    )
