"""PDF/A-2b parts added to a finished PDF in an incremental update.

ReportLab (open-source) has no PDF/A option, so the renderers stay as they are
and this module adds, in the same pyHanko revision that carries the signature:

- an XMP metadata stream with `pdfaid:part` 2 and `pdfaid:conformance` B; pyHanko
  fills in title, author, dates and producer and keeps them equal to the Info
  dictionary (PDF/A requires both to agree);
- an sRGB output intent whose ICC profile is read from a Debian package file
  (`icc-profiles-free`, `/usr/share/color/icc/sRGB.icc`, ICC v2) or, where that
  package is missing, the sRGB profile built into Pillow's LittleCMS (ICC v4);
- nothing else: the renderers already embed every font (TrueType subsets), use
  no encryption, no JavaScript and no external references.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata import model, xmp_xml

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


def _pdfaid() -> model.XmpStructure:
    ns = model.NS["pdfaid"]
    return model.XmpStructure.of(
        (model.ExpandedName(ns, "part"), model.XmpValue("2")),
        (model.ExpandedName(ns, "conformance"), model.XmpValue("B")),
    )


def pdfa_prepare(writer: IncrementalPdfFileWriter, *, info: DocumentInfo) -> None:
    """Add the PDF/A-2b identification, metadata and output intent to `writer`
    (written out with its next revision, e.g. by the signer)."""
    meta = writer.document_meta
    meta.title = info.title
    meta.author = info.author
    meta.subject = info.subject
    meta.creator = info.creator
    meta.created = info.created
    meta.last_modified = info.modified

    # One XMP packet with the identification in it: pyHanko merges its own
    # fields into an existing packet (xmp_extra would add a second, duplicate
    # rdf:Description each time the writer prepares its output).
    metadata = xmp_xml.MetadataStream.from_xmp([_pdfaid()])
    writer.root["/Metadata"] = writer.add_object(metadata)

    # The Info dictionary must say what the XMP packet says: pyHanko writes its
    # own name as the XMP producer and appends it to an existing Info producer,
    # so the Info one is set to the same value; entries the XMP packet does not
    # carry are dropped.
    trailer_info = writer.trailer_view.get("/Info")
    if trailer_info is not None:
        info_dict = trailer_info.get_object()
        info_dict["/Producer"] = generic.TextStringObject(model.VENDOR)
        for key in ("/Keywords", "/Trapped"):
            if key in info_dict:
                del info_dict[key]
        writer.update_container(info_dict)

    profile = generic.StreamObject(
        {generic.pdf_name("/N"): generic.NumberObject(3)},  # type: ignore[no-untyped-call]
        stream_data=srgb_icc_profile(),
    )
    profile.compress()  # type: ignore[no-untyped-call]
    intent = generic.DictionaryObject(  # type: ignore[no-untyped-call]
        {
            generic.pdf_name("/Type"): generic.pdf_name("/OutputIntent"),
            generic.pdf_name("/S"): generic.pdf_name("/GTS_PDFA1"),
            generic.pdf_name("/OutputConditionIdentifier"): generic.TextStringObject(
                OUTPUT_CONDITION
            ),
            generic.pdf_name("/Info"): generic.TextStringObject(OUTPUT_CONDITION),
            generic.pdf_name("/DestOutputProfile"): writer.add_object(profile),
        }
    )
    writer.root["/OutputIntents"] = generic.ArrayObject([writer.add_object(intent)])
    writer.update_root()  # type: ignore[no-untyped-call]
