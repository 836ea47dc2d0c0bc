"""Label writes: start the jobs that make label files. The file itself is a
document of the one pipeline (`patolab.core.documents`, kind `LABEL_DOCUMENT`).

Labels are pre-generated on reception (the reception service starts
`labels.generate` by name) and served from storage. A stored file whose
fingerprint no longer matches the protocol is stale and never served.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from patolab.accounts.models import User
from patolab.accounts.permissions import STAFF_ROLES, require_role
from patolab.core.documents import DocumentState, document_get_or_start
from patolab.core.errors import ValidationFailed
from patolab.jobs.models import Job
from patolab.jobs.services import job_start
from patolab.protocols.models import Protocol

from .documents import label_assert_received
from .jobs import LABEL_DOCUMENT, LABELS_BATCH
from .models import LabelDocument

MAX_BATCH = 500


def label_request_generate(*, protocol: Protocol, user: User | None) -> Job:
    """Queue generation of the protocol's labels.

    Safe inside the caller's transaction: the job is sent after commit. Joins
    the active job for the protocol instead of starting a second one.
    """
    return job_start(kind=LABEL_DOCUMENT.job_kind, target=protocol, user=user)


def label_get_or_start(
    *, protocol: Protocol, user: User
) -> DocumentState[LabelDocument]:
    """The current label document, or the job that is (re)generating it.

    Staff only (403 otherwise); 409 for a protocol not received yet. Missing or
    stale labels start a job, or join the active one: asking again never starts
    a second job. A stale file is never returned. The common case (labels
    current) runs no transaction and no extra query.
    """
    require_role(user, *STAFF_ROLES)
    label_assert_received(protocol)
    return document_get_or_start(LABEL_DOCUMENT, protocol, user=user)


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
        kind=LABELS_BATCH, params={"protocol_ids": ids}, user=user, total=len(ids)
    )
