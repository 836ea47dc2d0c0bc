"""One function per e-mail kind (STYLE rule 9).

Each renders `notifications/<kind>/{subject.txt,body.txt,body.html}`, writes an
`EmailLog` row with a deterministic idempotency key and sends its id to the
`emails` queue after the current transaction commits. Calling a kind twice with
the same key returns the existing row and enqueues nothing: a retried job or a
double click never mails twice.

Optional e-mails (submission, reception) return None when the veterinarian's
preferences say so; the rest are always sent. The recipient is the
veterinarian's alternative address when set.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from patolab.core.db import insert_unless_conflict

from .models import EmailKind, EmailLog
from .services import email_log_enqueue

if TYPE_CHECKING:
    from patolab.accounts.models import User, Veterinarian
    from patolab.protocols.models import Protocol
    from patolab.reports.models import Report

# Candidate URL names for a protocol's page, owned by the protocols app.
_PROTOCOL_URL_NAMES = ("protocols:protocol-detail", "protocols:detail")


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def protocol_url(protocol: Protocol) -> str:
    for name in _PROTOCOL_URL_NAMES:
        try:
            return absolute_url(reverse(name, kwargs={"pk": protocol.pk}))
        except NoReverseMatch:
            continue
    return absolute_url("/")


def _render(template_dir: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    ctx = {"LAB_NAME": settings.LAB_NAME, "SITE_URL": settings.SITE_URL, **context}
    # Rendered in the lab's language whatever the current request uses.
    with translation.override(settings.LANGUAGE_CODE):
        raw_subject = render_to_string(f"{template_dir}/subject.txt", ctx)
        raw_text = render_to_string(f"{template_dir}/body.txt", ctx)
        html = str(render_to_string(f"{template_dir}/body.html", ctx))
    subject = " ".join(raw_subject.split())[:250]
    # Template tags leave runs of blank lines in the plain-text part.
    text = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", raw_text).strip() + "\n"
    return subject, text, html


def email_queue(
    *,
    kind: str,
    key: str,
    recipient: str,
    subject_template_dir: str,
    context: Mapping[str, Any],
    protocol: Protocol | None = None,
    related: str = "",
    attachments: Iterable[Mapping[str, str]] = (),
) -> EmailLog:
    """Render one e-mail, persist it as a queued EmailLog and send its id to the
    `emails` queue on commit.

    `attachments` are `{"path": storage path, "filename", "mimetype"}` dicts; the
    files are read at delivery. Idempotent per `key`: an existing row (whatever
    its status) is returned unchanged and nothing is enqueued. Any service may
    call it (work orders, exports reuse it).
    """
    subject, text, html = _render(subject_template_dir, context)
    log = EmailLog(
        kind=kind,
        idempotency_key=key,
        protocol=protocol,
        related=related[:100],
        recipient=recipient,
        subject=subject,
        body_text=text,
        body_html=html,
        attachments=[dict(a) for a in attachments],
        next_attempt_at=timezone.now(),
    )
    # One INSERT that the unique key refuses quietly (a repeat, or a
    # concurrent caller that inserted it first, without breaking the
    # caller's transaction); no "does it exist?" query, no savepoint.
    if not insert_unless_conflict(log):
        return EmailLog.objects.get(idempotency_key=key)
    email_log_enqueue(log.pk)
    return log


def _key_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def _protocol_context(protocol: Protocol) -> dict[str, Any]:
    vet = protocol.veterinarian
    return {
        "protocol": protocol,
        "veterinarian": vet,
        "code": protocol.protocol_number or protocol.temporary_code,
        "protocol_url": protocol_url(protocol),
    }


def _protocol_email(
    *, kind: str, protocol: Protocol, tag: str = "", **extra: Any
) -> EmailLog:
    vet: Veterinarian = protocol.veterinarian
    key = f"{kind}:protocol:{protocol.pk}" + (f":{tag}" if tag else "")
    return email_queue(
        kind=kind,
        key=key,
        recipient=vet.delivery_email,
        subject_template_dir=f"notifications/{kind}",
        context={**_protocol_context(protocol), **extra},
        protocol=protocol,
        related=f"protocol:{protocol.pk}",
    )


def protocol_submitted(*, protocol: Protocol) -> EmailLog | None:
    """Submission confirmation: temporary code and how to label the sample.
    Optional (`notify_submission`)."""
    if not protocol.veterinarian.notify_submission:
        return None
    # The printable slip (code as QR and barcode, one tag per container).
    slip_url = absolute_url(
        reverse("protocols:protocol-slip", kwargs={"pk": protocol.pk})
    )
    return _protocol_email(
        kind=EmailKind.SUBMITTED, protocol=protocol, slip_url=slip_url
    )


def protocol_received(*, protocol: Protocol, tag: str = "") -> EmailLog | None:
    """Reception notice with the definitive protocol number. Optional
    (`notify_reception`). `tag` makes a deliberate re-send (bulk) a new message."""
    if not protocol.veterinarian.notify_reception:
        return None
    reception = getattr(protocol, "reception", None)
    return _protocol_email(
        kind=EmailKind.RECEIVED, protocol=protocol, tag=tag, reception=reception
    )


def protocol_discrepancies(*, protocol: Protocol) -> EmailLog:
    """Discrepancies found at reception (declared vs received). Always sent."""
    reception = getattr(protocol, "reception", None)
    return _protocol_email(
        kind=EmailKind.DISCREPANCIES, protocol=protocol, reception=reception
    )


def protocol_rejected(*, protocol: Protocol) -> EmailLog:
    """Rejection notice with the reason. Always sent."""
    return _protocol_email(
        kind=EmailKind.REJECTED, protocol=protocol, reason=protocol.rejection_reason
    )


def report_ready(
    *, report: Report, pdf_path: str, filename: str, sha256: str, tag: str = ""
) -> EmailLog:
    """The finalized report with its PDF attached (read from storage at delivery).
    Always sent. The key includes id, version and SHA-256: a regenerated PDF is a
    new message, a retried finalization is not."""
    protocol = report.protocol
    vet = protocol.veterinarian
    key = f"report_ready:report:{report.pk}:v{report.version}:{sha256}" + (
        f":{tag}" if tag else ""
    )
    return email_queue(
        kind=EmailKind.REPORT_READY,
        key=key,
        recipient=vet.delivery_email,
        subject_template_dir="notifications/report_ready",
        context={**_protocol_context(protocol), "report": report, "sha256": sha256},
        protocol=protocol,
        related=f"report:{report.pk}",
        attachments=[
            {"path": pdf_path, "filename": filename, "mimetype": "application/pdf"}
        ],
    )


def _user_recipient(user: User) -> str:
    vet = getattr(user, "veterinarian", None)
    # Account mail goes to the login address: it proves that address works.
    return user.email or (vet.email if vet else "")


def account_verification(*, user: User, url: str) -> EmailLog:
    """The e-mail verification link of a new account (valid
    `EMAIL_VERIFICATION_HOURS`)."""
    return email_queue(
        kind=EmailKind.ACCOUNT_VERIFICATION,
        key=f"account_verification:user:{user.pk}:{_key_hash(url)}",
        recipient=_user_recipient(user),
        subject_template_dir="notifications/account_verification",
        context={
            "user": user,
            "url": url,
            "hours": settings.EMAIL_VERIFICATION_HOURS,
        },
        related=f"user:{user.pk}",
    )


def password_reset(*, user: User, url: str) -> EmailLog:
    """The password reset link."""
    return email_queue(
        kind=EmailKind.PASSWORD_RESET,
        key=f"password_reset:user:{user.pk}:{_key_hash(url)}",
        recipient=_user_recipient(user),
        subject_template_dir="notifications/password_reset",
        context={"user": user, "url": url},
        related=f"user:{user.pk}",
    )


def account_exists(*, user: User, url: str) -> EmailLog:
    """Someone tried to register with this address, which has an account: say
    so to the owner only (the registration page answers as for a new account),
    with a password-reset link."""
    return email_queue(
        kind=EmailKind.PASSWORD_RESET,
        key=f"account_exists:user:{user.pk}:{_key_hash(url)}",
        recipient=_user_recipient(user),
        subject_template_dir="notifications/account_exists",
        context={"user": user, "url": url},
        related=f"user:{user.pk}",
    )


def daily_stats(*, user: User, figures: Mapping[str, Any], url: str) -> EmailLog:
    """The daily statistics summary for one admin. Once per (date, admin): the
    beat task running twice, or a recomputation, never mails again."""
    return email_queue(
        kind=EmailKind.DAILY_STATS,
        key=f"daily_stats:{figures['date']}:user:{user.pk}",
        recipient=user.email,
        subject_template_dir="notifications/daily_stats",
        context={"user": user, "figures": figures, "url": url},
        related=f"stats:{figures['date']}",
    )


def export_ready(*, user: User, export_id: object, url: str, **info: Any) -> EmailLog:
    """The download link of a finished export, to its requester. Once per
    export (`info`: dataset, format, rows, expires_at for the text)."""
    return email_queue(
        kind=EmailKind.EXPORT_READY,
        key=f"export_ready:export:{export_id}",
        recipient=_user_recipient(user),
        subject_template_dir="notifications/export_ready",
        context={"user": user, "url": url, **info},
        related=f"export:{export_id}",
    )
