"""Bulk re-send of e-mails to the veterinarians of many protocols (admins).

Domain logic that reads protocols and reports, so it lives here, above the
outbox: `patolab.notifications` only renders, records and delivers, and never
imports the domain apps (STYLE.md "Floors").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from patolab.accounts.models import User
from patolab.accounts.permissions import require_role
from patolab.core.errors import DomainError, ValidationFailed
from patolab.core.retry import DATABASE_TRANSIENT_ERRORS
from patolab.jobs.models import Job
from patolab.jobs.services import job_start
from patolab.notifications import emails
from patolab.notifications.models import EmailLog
from patolab.notifications.services import email_log_resend
from patolab.protocols.models import Protocol

from .documents import report_download_name
from .jobs import NOTIFICATIONS_BULK, NOTIFICATIONS_RESEND_FAILED
from .models import Report, ReportStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

logger = logging.getLogger(__name__)

BULK_EMAIL_TYPES = ("reception", "report_ready")
BULK_MAX_PROTOCOLS = 1000


def notifications_bulk_start(
    *, protocol_ids: list[int], email_type: str, user: User | AnonymousUser
) -> Job:
    """Queue a `notifications.bulk` job (queue `bulk`) that (re-)sends one
    e-mail type to the veterinarians of the given protocols. Admin only.

    Raises ValidationFailed (and writes nothing) for an unknown type, an empty or
    oversized list, or ids that do not exist. Side effects: one Job row, sent
    after commit."""
    require_role(user)
    errors: dict[str, list[str]] = {}
    if email_type not in BULK_EMAIL_TYPES:
        errors["email_type"] = [
            _("Tipo de e-mail no permitido: use reception o report_ready.")
        ]
    ids = list(dict.fromkeys(protocol_ids))
    if not ids:
        errors["protocol_ids"] = [_("Indique al menos un protocolo.")]
    elif len(ids) > BULK_MAX_PROTOCOLS:
        errors["protocol_ids"] = [
            _("Como máximo %(n)s protocolos por envío.") % {"n": BULK_MAX_PROTOCOLS}
        ]
    else:
        found = set(Protocol.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in found]
        if missing:
            errors["protocol_ids"] = [
                _("Protocolos inexistentes: %(ids)s.")
                % {"ids": ", ".join(str(pk) for pk in missing[:20])}
            ]
    if errors:
        raise ValidationFailed(_("Datos inválidos."), errors=errors)
    return job_start(
        kind=NOTIFICATIONS_BULK,
        params={"protocol_ids": ids, "email_type": email_type},
        user=user if isinstance(user, User) else None,
        total=len(ids),
    )


def _latest_report_with_pdf(protocol: Protocol) -> Report | None:
    return (
        Report.objects.filter(
            protocol=protocol,
            status__in=[ReportStatus.FINALIZED, ReportStatus.SENT],
        )
        .exclude(pdf_file="")
        .order_by("-version")
        .first()
    )


def _bulk_one(*, protocol: Protocol, email_type: str, tag: str) -> str:
    """`sent` (queued for delivery) or `skipped` for one protocol."""
    if email_type == "reception":
        if not protocol.protocol_number:
            return "skipped"  # never received: no reception to notify
        log = emails.protocol_received(protocol=protocol, tag=tag)
        return "skipped" if log is None else "sent"
    report = _latest_report_with_pdf(protocol)
    if report is None:
        return "skipped"
    emails.report_ready(
        report=report,
        pdf_path=report.pdf_file,
        filename=report_download_name(report),
        sha256=report.pdf_sha256,
        tag=tag,
    )
    return "sent"


def notifications_bulk_run(
    *,
    job_id: str,
    protocol_ids: list[int],
    email_type: str,
    progress: Callable[[int, int], None],
) -> dict[str, Any]:
    """Body of the `notifications.bulk` job: one small transaction per protocol,
    so one failing row neither rolls back nor blocks the others (STYLE rule 6).

    Idempotent: every e-mail key carries the job id, so a re-run of the same job
    finds the rows it already created instead of mailing twice. Result counts
    `sent` (queued for delivery), `skipped` (preference off, not received, no
    finalized report) and `failed`, with per-item errors."""
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    items: list[dict[str, Any]] = []
    total = len(protocol_ids)
    protocols = Protocol.objects.select_related("veterinarian").in_bulk(protocol_ids)
    for index, pk in enumerate(protocol_ids, start=1):
        protocol = protocols.get(pk)
        try:
            if protocol is None:
                raise ValidationFailed(_("El protocolo no existe."))
            with transaction.atomic():
                outcome = _bulk_one(
                    protocol=protocol, email_type=email_type, tag=f"bulk:{job_id}"
                )
        except DATABASE_TRANSIENT_ERRORS:
            # The connection, not this protocol: the job retries (the rows
            # already made are found by their keys, nothing is mailed twice).
            raise
        except Exception as exc:
            logger.warning("bulk notify: protocol %s failed: %s", pk, exc)
            counts["failed"] += 1
            message = exc.message if isinstance(exc, DomainError) else str(exc)
            items.append(
                {
                    "id": pk,
                    "label": protocol.code if protocol else str(pk),
                    "error": message,
                }
            )
        else:
            counts[outcome] += 1
        progress(index, total)
    message = (
        _(
            "E-mails encolados: %(sent)s · omitidos: %(skipped)s · con error: %(failed)s."
        )
        % counts
    )
    return {**counts, "items": items, "message": message}


# ------------------------------------------------- failed e-mails, re-queued
RESEND_MAX_LOGS = 5000


def email_logs_resend_start(*, log_ids: list[int], user: User | AnonymousUser) -> Job:
    """Queue one `notifications.resend_failed` job (queue `bulk`) that puts the
    given failed e-mails back in the outbox (the admin's bulk action). Admin
    only; 400 for an empty or oversized list. Writes one Job row, nothing else:
    the request never loops over the rows."""
    require_role(user)
    ids = list(dict.fromkeys(log_ids))
    if not ids or len(ids) > RESEND_MAX_LOGS:
        raise ValidationFailed(
            _("Seleccione entre 1 y %(n)s e-mails.") % {"n": RESEND_MAX_LOGS},
            errors={"log_ids": [_("Cantidad no permitida.")]},
        )
    return job_start(
        kind=NOTIFICATIONS_RESEND_FAILED,
        params={"log_ids": ids},
        user=user if isinstance(user, User) else None,
        total=len(ids),
    )


def email_logs_resend_run(
    *, log_ids: list[int], progress: Callable[[int, int], None]
) -> dict[str, Any]:
    """Body of `notifications.resend_failed`: `email_log_resend` per row, each in
    its own transaction. Idempotent: a row already back in the queue (or sent)
    is reported as not failed and left alone, so a re-run mails nothing twice."""
    logs = EmailLog.objects.select_related("protocol").in_bulk(log_ids)
    items: list[dict[str, Any]] = []
    for index, pk in enumerate(log_ids, start=1):
        log = logs.get(pk)
        if log is None:
            items.append({"id": pk, "ok": False, "error": _("El e-mail no existe.")})
        else:
            code = (
                f"{log.protocol.code} · {log.recipient}"
                if log.protocol
                else log.recipient
            )
            if email_log_resend(log=log):
                items.append(
                    {
                        "id": pk,
                        "code": code,
                        "ok": True,
                        "detail": _("Vuelto a la cola de envío."),
                    }
                )
            else:
                items.append(
                    {
                        "id": pk,
                        "code": code,
                        "ok": False,
                        "error": _("No estaba fallido: se dejó como estaba."),
                    }
                )
        progress(index, len(log_ids))
    resent = sum(1 for item in items if item["ok"])
    return {
        "succeeded": resent,
        "failed": len(items) - resent,
        "items": items,
        "message": _("%(ok)s e-mails vueltos a la cola, %(bad)s sin cambios.")
        % {"ok": resent, "bad": len(items) - resent},
    }
