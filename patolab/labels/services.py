"""Label documents: data, fingerprint, generation, and the jobs that make them.

Labels are pre-generated on reception (`label_request_generate`, called by the
reception service inside its transaction) and served from storage. A stored file
whose fingerprint no longer matches the protocol is stale and never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.accounts.models import User
from patolab.accounts.permissions import STAFF_ROLES, require_role
from patolab.core.errors import Conflict, ValidationFailed
from patolab.core.files import safe_filename, sha256_hex, store_bytes
from patolab.jobs.models import Job
from patolab.jobs.services import job_start
from patolab.protocols.models import Protocol

from .models import LabelBatch, LabelDocument
from .render import RENDERER_VERSION, LabelData, render_labels

logger = logging.getLogger(__name__)

MAX_BATCH = 500


@lru_cache(maxsize=8192)
def _detail_path(pk: int) -> str:
    # reverse() is a measurable part of serving a cached label; paths are stable.
    for name in ("protocols:protocol-detail", "protocols:detail"):
        try:
            return reverse(name, kwargs={"pk": pk})
        except NoReverseMatch:
            continue
    # Until the protocols app names its detail page, build the path it has.
    return f"/protocolos/{pk}/"


def protocol_absolute_url(protocol: Protocol) -> str:
    """What the QR encodes: `SITE_URL` + the protocol's detail page."""
    return f"{settings.SITE_URL}{_detail_path(protocol.pk)}"


def label_is_received(protocol: Protocol) -> bool:
    return bool(protocol.protocol_number) and hasattr(protocol, "reception")


def label_assert_received(protocol: Protocol) -> None:
    if not label_is_received(protocol):
        raise Conflict(
            _(
                "El protocolo %(code)s todavía no fue recibido: "
                "las etiquetas se generan al recibirlo."
            )
            % {"code": protocol.code},
            code="not_received",
        )


def label_data_for(protocol: Protocol) -> LabelData:
    """What the labels of a received protocol print (no queries beyond the
    reception, which callers select_related)."""
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


def label_fingerprint(data: LabelData) -> str:
    payload = {
        "renderer": RENDERER_VERSION,
        "number": data.protocol_number,
        "animal": data.animal_name,
        "species": data.species,
        "date": data.received_on.isoformat(),
        "containers": data.containers,
        "url": data.url,
    }
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def label_document_current(protocol: Protocol) -> LabelDocument | None:
    """The stored labels if they match what would be printed now, else None."""
    doc: LabelDocument | None = getattr(protocol, "label_document", None)
    if doc is None or not label_is_received(protocol):
        return None
    if doc.fingerprint != label_fingerprint(label_data_for(protocol)):
        return None
    return doc


def label_document_generate(*, protocol: Protocol) -> LabelDocument:
    """Render and store the protocol's labels, replacing a stale file.

    Idempotent: when the stored document already has the current fingerprint
    and its file exists, nothing is rendered or written. Called by the
    `labels.generate` job (one active per protocol, so no two runs race).
    """
    data = label_data_for(protocol)
    fingerprint = label_fingerprint(data)
    doc = LabelDocument.objects.filter(protocol=protocol).first()
    if (
        doc is not None
        and doc.fingerprint == fingerprint
        and default_storage.exists(doc.file)
    ):
        return doc
    pdf = render_labels([data])
    name = safe_filename(
        protocol.protocol_number or "", protocol.pk, prefix="", suffix="pdf"
    )
    path = f"labels/{fingerprint[:12]}-{name}"
    stored = store_bytes(path, pdf)
    old_file = doc.file if doc is not None else ""
    doc, _created = LabelDocument.objects.update_or_create(
        protocol=protocol,
        defaults={
            "fingerprint": fingerprint,
            "file": stored,
            "sha256": sha256_hex(pdf),
            "size": len(pdf),
            "pages": data.containers,
        },
    )
    if old_file and old_file != stored:
        transaction.on_commit(lambda: _delete_quietly(old_file))
    return doc


def _delete_quietly(path: str) -> None:
    try:
        default_storage.delete(path)
    except OSError:
        logger.warning("could not delete stale label file %s", path)


def label_request_generate(*, protocol: Protocol, user: User | None) -> Job:
    """Queue generation of the protocol's labels (called on reception).

    Safe inside the caller's transaction: the job is sent after commit. Joins
    the active job for the protocol instead of starting a second one.
    """
    return job_start(kind="labels.generate", target=protocol, user=user)


def label_get_or_start(
    *, protocol: Protocol, user: User
) -> tuple[LabelDocument | None, Job | None]:
    """The current label document, or the job that is (re)generating it.

    Staff only (403 otherwise); 409 for a protocol not received yet. Missing or
    stale labels start a job, or join the active one (`job_start` is idempotent
    per protocol, backed by a partial unique constraint): asking again never
    starts a second job. A stale file is never returned. The common case (labels
    current) runs no transaction and no extra query.
    """
    require_role(user, *STAFF_ROLES)
    label_assert_received(protocol)
    doc = label_document_current(protocol)
    if doc is not None:
        return doc, None
    return None, label_request_generate(protocol=protocol, user=user)


def _clean_ids(protocol_ids: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for value in protocol_ids:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationFailed(
                _("Identificadores de protocolo inválidos."),
                errors={"protocol_ids": [_("Deben ser números enteros.")]},
            )
        try:
            number = int(value)
        except ValueError:
            raise ValidationFailed(
                _("Identificadores de protocolo inválidos."),
                errors={"protocol_ids": [_("Deben ser números enteros.")]},
            ) from None
        if number not in ids:
            ids.append(number)
    if not ids:
        raise ValidationFailed(
            _("Seleccione al menos un protocolo."),
            errors={"protocol_ids": [_("Seleccione al menos un protocolo.")]},
        )
    if len(ids) > MAX_BATCH:
        raise ValidationFailed(
            _("Se pueden imprimir hasta %(max)s protocolos por lote.")
            % {"max": MAX_BATCH},
            errors={"protocol_ids": [_("Demasiados protocolos.")]},
        )
    return ids


@transaction.atomic
def start_label_batch(*, protocol_ids: Iterable[Any], user: User) -> Job:
    """Start a `labels.batch` job: one PDF with the labels of many protocols.

    Staff only. Protocols that do not exist or are not received yet are
    reported per item in the job result; they never block the others. Each call
    is a new job (batches have no target). Also meant for a Protocol admin action.
    """
    require_role(user, *STAFF_ROLES)
    ids = _clean_ids(protocol_ids)
    return job_start(
        kind="labels.batch", params={"protocol_ids": ids}, user=user, total=len(ids)
    )


def label_batch_build(
    *,
    job_id: Any,
    protocol_ids: list[int],
    user_id: int | None,
    progress: Callable[[int, int], None],
) -> tuple[LabelBatch | None, list[dict[str, Any]]]:
    """Render the labels of `protocol_ids` into one stored PDF.

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
            data.append(label_data_for(protocol))
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
