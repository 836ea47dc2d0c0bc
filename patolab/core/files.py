"""Safe filenames and permission-checked file responses (DESIGN section 5).

Views call `file_response` only after a selector has checked the user may see
the object; media is never exposed by URL.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils.text import slugify

FILE_BLOCK_SIZE = 64 * 1024


def safe_filename(code: str, pk: object, suffix: str = "pdf", prefix: str = "") -> str:
    """`hp-26-001-42.pdf` from `HP 26/001` and id 42: never raw user text."""
    stem = slugify(code.replace("/", "-")) or "documento"
    return f"{prefix}{stem}-{pk}.{suffix}"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_bytes(path: str, data: bytes) -> str:
    """Write `data` at `path` in the default storage, replacing what is there, and
    return the stored name. Same path + same bytes is a no-op."""
    if default_storage.exists(path):
        with default_storage.open(path, "rb") as existing:
            if sha256_hex(existing.read()) == sha256_hex(data):
                return path
        default_storage.delete(path)
    return default_storage.save(path, ContentFile(data))


def etag_matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    candidates = {
        item.strip().removeprefix("W/").strip('"')
        for item in header.split(",")
        if item.strip()
    }
    return etag in candidates or "*" in candidates


def file_response(
    request: HttpRequest,
    *,
    path: str,
    sha256: str,
    filename: str,
    content_type: str = "application/pdf",
    inline: bool = True,
) -> HttpResponseBase:
    """Serve a stored file with ETag = SHA-256 (304 on If-None-Match)."""
    if sha256 and etag_matches(request, sha256):
        response: HttpResponseBase = HttpResponseNotModified()
    else:
        response = FileResponse(
            default_storage.open(path, "rb"),
            content_type=content_type,
            as_attachment=not inline,
            filename=filename,
        )
        # Our PDFs are tens of KB: one or two reads instead of Django's 4 KB
        # blocks (a server with wsgi.file_wrapper sends the file itself).
        response.block_size = FILE_BLOCK_SIZE
    if sha256:
        response["ETag"] = f'"{sha256}"'
    response["Cache-Control"] = "private, no-cache"
    return response
