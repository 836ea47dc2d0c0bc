"""Label documents: what the labels of a protocol print (pure), where the file
goes, and the batch sheet. Serving, fingerprints and the job dance are the one
pipeline's (`patolab.core.documents`); the kind is declared in `labels/jobs.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.core.errors import Conflict
from patolab.core.files import safe_filename, sha256_hex, store_bytes
from patolab.protocols.models import Protocol

from .models import LabelBatch, LabelDocument
from .render import LabelData, render_labels


@lru_cache(maxsize=8192)
def _detail_path(pk: int) -> str:
    # reverse() is a measurable part of serving a cached label; paths are stable.
    return reverse("protocols:protocol-detail", kwargs={"pk": pk})


def protocol_absolute_url(protocol: Protocol) -> str:
    """What the QR encodes: `SITE_URL` + the protocol's detail page."""
    return f"{settings.SITE_URL}{_detail_path(protocol.pk)}"


def label_warm() -> None:
    """Render throw-away label pages (not stored) for the shortest and the
    longest usual protocol URL, so a fresh worker process's first label does
    not pay ~5 ms for the QR tables of its version, the text encoder and the
    PDF objects formatted once per process."""
    for pk in (1, 999_999):
        url = f"{settings.SITE_URL}{_detail_path(pk)}"
        render_labels(
            [LabelData("HP 00/0000", "Ñandú", "Canino", date(2000, 1, 1), 1, url)]
        )


def label_is_received(protocol: Protocol) -> bool:
    return bool(protocol.protocol_number) and hasattr(protocol, "reception")


def label_assert_received(protocol: Protocol) -> None:
    """409 `protocol_not_received` for a protocol without reception yet."""
    if not label_is_received(protocol):
        raise Conflict(
            _(
                "El protocolo %(code)s todavía no fue recibido: "
                "las etiquetas se generan al recibirlo."
            )
            % {"code": protocol.code},
            code="protocol_not_received",
        )


def label_document_data(protocol: Protocol) -> LabelData:
    """What the labels of a received protocol print (no queries beyond the
    reception, which callers select_related). 409 when not received."""
    label_assert_received(protocol)
    reception = protocol.reception
    return LabelData(
        protocol_number=protocol.protocol_number or "",
        animal_name=protocol.animal_name,
        species=protocol.get_species_display(),
        received_on=timezone.localdate(reception.received_at),
        containers=max(1, reception.containers_received),
        url=protocol_absolute_url(protocol),
    )


def label_storage_path(protocol: Protocol, fingerprint: str, sha256: str) -> str:
    name = safe_filename(
        protocol.protocol_number or "", protocol.pk, prefix="", suffix="pdf"
    )
    return f"labels/{fingerprint[:12]}-{name}"


def label_filename(protocol: Protocol) -> str:
    return label_filename_for(code=protocol.code, pk=protocol.pk)


def label_filename_for(*, code: str, pk: int) -> str:
    return safe_filename(code, pk, prefix="etiquetas-")


# Every row `label_document_data` reads besides the protocol's own (the fast
# serving path's digest; a test checks the list against the reads).
LABEL_PRINTED = ("reception",)


def label_stored(protocol: Protocol, fingerprint: str) -> LabelDocument | None:
    """The protocol's stored labels if they have this fingerprint. Uses the
    select_related one-to-one when the caller loaded it (no extra query on the
    hot path of serving current labels)."""
    try:
        doc: LabelDocument | None = protocol.label_document
    except LabelDocument.DoesNotExist:
        return None
    if doc is None or doc.fingerprint != fingerprint:
        return None
    return doc


def label_batch_build(
    *,
    job_id: Any,
    protocol_ids: list[int],
    user_id: int | None,
    progress: Callable[[int, int], None],
) -> tuple[LabelBatch | None, list[dict[str, Any]]]:
    """Render the labels of `protocol_ids` into one stored PDF (`labels.batch`).

    Returns the batch (None when no protocol could be printed) and one item per
    protocol `{"id", "ok", "error"}`. Idempotent per job: a re-run of the same
    job returns the stored batch without writing another file.
    """
    protocols = {
        p.pk: p
        for p in Protocol.objects.select_related("reception").filter(
            pk__in=protocol_ids
        )
    }
    items: list[dict[str, Any]] = []
    data: list[LabelData] = []
    total = len(protocol_ids)
    for index, pk in enumerate(protocol_ids, start=1):
        protocol = protocols.get(pk)
        if protocol is None:
            items.append({"id": pk, "ok": False, "error": _("El protocolo no existe.")})
        elif not label_is_received(protocol):
            items.append(
                {
                    "id": pk,
                    "code": protocol.code,
                    "ok": False,
                    "error": _("Todavía no fue recibido."),
                }
            )
        else:
            data.append(label_document_data(protocol))
            items.append({"id": pk, "code": protocol.code, "ok": True, "error": None})
        progress(index, total)
    existing = LabelBatch.objects.filter(job_id=job_id).first()
    if existing is not None and default_storage.exists(existing.file):
        return existing, items
    if not data:
        return None, items
    pdf = render_labels(data)
    stored = store_bytes(f"labels/batches/etiquetas-{job_id}.pdf", pdf)
    batch, _created = LabelBatch.objects.update_or_create(
        job_id=job_id,
        defaults={
            "requested_by_id": user_id,
            "protocol_ids": protocol_ids,
            "file": stored,
            "sha256": sha256_hex(pdf),
            "size": len(pdf),
            "pages": sum(item.containers for item in data),
        },
    )
    return batch, items
