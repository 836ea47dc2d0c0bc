"""E-mail delivery: claim an EmailLog row, send it over SMTP, record the outcome.

The row is the truth (STYLE rules 7-8). A row is claimed with a conditional
UPDATE, so two deliveries of the same task message never both talk to SMTP;
a row already `sent` is never sent again. Mail stays at-least-once: only a crash
between SMTP's acceptance and our commit can duplicate it, and then with the
same Message-ID.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.core.db import update_one_returning
from patolab.core.heartbeat import Heartbeat
from patolab.core.retry import (
    retry_delay,
    retry_on_lost_connection,
)

from .models import EmailLog, EmailStatus

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


def sending_stale_after() -> timedelta:
    """A row in `sending` whose heartbeat is older than this lost its worker
    (EMAIL_SENDING_STALE_SECONDS; a live send refreshes it every third of that)."""
    return timedelta(seconds=settings.EMAIL_SENDING_STALE_SECONDS)


def queued_stale_after() -> timedelta:
    """A queued row overdue by this much lost its broker message."""
    return timedelta(seconds=settings.EMAIL_QUEUED_STALE_SECONDS)


class TransientSendError(Exception):
    """Worth retrying: connection refused, timeout, disconnect, 4xx."""


class PermanentSendError(Exception):
    """Not worth retrying: 5xx, missing attachment."""


@dataclass(frozen=True)
class Delivery:
    """What happened to one delivery attempt. `retry_in` is set when the task
    should retry after that many seconds."""

    email_log_id: int
    outcome: str  # sent | skipped | retry | failed
    retry_in: float | None = None
    error: str = ""


def message_id_for(key: str) -> str:
    """A stable Message-ID: the same logical e-mail always carries the same one."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@patolab>"


def classify_smtp_error(exc: BaseException) -> type[Exception]:
    """TransientSendError or PermanentSendError for an exception from sending."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return PermanentSendError
        return TransientSendError
    if isinstance(exc, smtplib.SMTPResponseException):
        return PermanentSendError if exc.smtp_code >= 500 else TransientSendError
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentSendError
    if isinstance(exc, (ValueError, TypeError)):
        # Bad data (a malformed address, a header with a newline): retrying
        # cannot help. BadHeaderError and UnicodeError are ValueErrors.
        return PermanentSendError
    # SMTPServerDisconnected, other SMTPException, ConnectionRefusedError,
    # TimeoutError and the rest of OSError: the network, try again.
    return TransientSendError


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for addr, (code, msg) in exc.recipients.items()
        ]
        return "SMTPRecipientsRefused " + "; ".join(parts)
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error
        text = msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
        return f"{type(exc).__name__} {exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"[:1000]


def email_log_claim(*, email_log_id: int) -> EmailLog | None:
    """Move a row to `sending` (attempts + 1) if it is queued, or stuck in
    `sending` past the stale threshold. None when another run owns it or it is
    already final. A conditional UPDATE: two concurrent claims, one winner."""
    now = timezone.now()
    return update_one_returning(
        EmailLog.objects.filter(pk=email_log_id).filter(
            Q(status=EmailStatus.QUEUED)
            | Q(
                status=EmailStatus.SENDING,
                sending_started_at__lt=now - sending_stale_after(),
            )
        ),
        status=EmailStatus.SENDING,
        attempts=F("attempts") + 1,
        sending_started_at=now,
    )


def email_log_build_message(*, log: EmailLog) -> EmailMultiAlternatives:
    """The Django message for a row: text + HTML + attachments from storage.
    Raises PermanentSendError for a missing attachment."""
    message = EmailMultiAlternatives(
        subject=log.subject,
        body=log.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[log.recipient],
        headers={"Message-ID": message_id_for(log.idempotency_key)},
        connection=get_connection(fail_silently=False),
    )
    if log.body_html:
        message.attach_alternative(log.body_html, "text/html")
    for item in log.attachments:
        path = item["path"]
        if not default_storage.exists(path):
            raise PermanentSendError(
                _("No se encontró el adjunto %(name)s.")
                % {"name": item.get("filename", path)}
            )
        with default_storage.open(path, "rb") as fh:
            data = fh.read()
        message.attach(
            item.get("filename") or path.rsplit("/", 1)[-1],
            data,
            item.get("mimetype") or "application/octet-stream",
        )
    return message


def _finish(log: EmailLog, **fields: object) -> None:
    # Only the run that holds the claim (status `sending`) may record an outcome.
    # After SMTP accepted the message, losing this write (a dropped database
    # connection) would leave the row in `sending` and the sweeper would send it
    # again: it is retried on a new connection.
    retry_on_lost_connection(
        lambda: EmailLog.objects.filter(pk=log.pk, status=EmailStatus.SENDING).update(
            **fields
        ),
        what=f"email {log.pk}",
    )


def email_log_deliver(*, email_log_id: int) -> Delivery:
    """Send one EmailLog row over the configured backend (SMTP in production).

    Side effects: the row goes `sending` → `sent` (with `sent_at`), or back to
    `queued` with `last_error` and `next_attempt_at` on a transient failure
    (the caller retries after `retry_in`), or `failed` with the reason on a
    permanent one or when the retries are used up. Idempotent: a row already
    sent, failed, or being sent by another live run is skipped.
    Called by the `patolab.notifications.email_send` task.
    """
    log = email_log_claim(email_log_id=email_log_id)
    if log is None:
        logger.info("email %s: not claimable (sent, failed or owned)", email_log_id)
        return Delivery(email_log_id=email_log_id, outcome="skipped")
    # The heartbeat lasts until the outcome is written, so the sweeper never
    # retakes a row whose message was accepted but not yet marked sent.
    # It keeps `sending_started_at` fresh, so the sweeper retakes a row within
    # EMAIL_SENDING_STALE_SECONDS of its worker dying but never while a slow
    # send is alive (which would send twice).
    with Heartbeat(
        lambda: EmailLog.objects.filter(pk=log.pk, status=EmailStatus.SENDING).update(
            sending_started_at=timezone.now()
        ),
        every=max(0.5, settings.EMAIL_SENDING_STALE_SECONDS / 3),
        what=f"email {log.pk}",
    ):
        return _send_claimed(log)


def _send_claimed(log: EmailLog) -> Delivery:
    try:
        message = email_log_build_message(log=log)
        message.send(fail_silently=False)
    except PermanentSendError as exc:
        error = str(exc)
        _finish(log, status=EmailStatus.FAILED, last_error=error)
        return Delivery(email_log_id=log.pk, outcome="failed", error=error)
    except Exception as exc:
        error = describe_error(exc)
        if classify_smtp_error(exc) is PermanentSendError:
            _finish(log, status=EmailStatus.FAILED, last_error=error)
            return Delivery(email_log_id=log.pk, outcome="failed", error=error)
        if retries_exhausted(log):
            error = _("Se agotaron los reintentos. Último error: %(error)s") % {
                "error": error
            }
            _finish(log, status=EmailStatus.FAILED, last_error=error)
            return Delivery(email_log_id=log.pk, outcome="failed", error=error)
        delay = retry_delay(log.attempts)
        _finish(
            log,
            status=EmailStatus.QUEUED,
            last_error=error,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        logger.warning("email %s: transient failure, retry in %ss", log.pk, delay)
        return Delivery(
            email_log_id=log.pk, outcome="retry", retry_in=delay, error=error
        )
    _finish(
        log,
        status=EmailStatus.SENT,
        sent_at=timezone.now(),
        message_id=message_id_for(log.idempotency_key),
        last_error="",
    )
    return Delivery(email_log_id=log.pk, outcome="sent")


def retries_exhausted(log: EmailLog) -> bool:
    """A transient failure is retried until the row is EMAIL_RETRY_FOR_SECONDS
    old (48 h by default, like an MTA's queue lifetime: a long SMTP outage loses
    nothing), counted from its creation or its last manual resend; with
    EMAIL_MAX_RETRIES > 0 also after that many attempts."""
    started = log.retry_from or log.created_at
    expired = timezone.now() - started >= timedelta(
        seconds=settings.EMAIL_RETRY_FOR_SECONDS
    )
    limit = int(settings.EMAIL_MAX_RETRIES)
    return expired or (limit > 0 and log.attempts > limit)


# The delivery task, sent by name (as jobs are): this module never imports the
# task module, which imports it.
EMAIL_SEND_TASK = "patolab.notifications.email_send"


def email_log_enqueue(email_log_id: int) -> None:
    """Send the delivery task for one row after the current transaction commits
    (the task route puts it on the `emails` queue)."""

    # A named function, not a functools.partial (see jobs.services
    # `_send_on_commit`): a broker failure must be logged, not raised.
    def send_email() -> None:
        current_app.send_task(EMAIL_SEND_TASK, args=[email_log_id])

    transaction.on_commit(send_email, robust=True)


def email_log_sweep() -> dict[str, int]:
    """Re-enqueue rows whose broker message was lost: `queued` rows due for more
    than EMAIL_QUEUED_STALE_SECONDS, and rows in `sending` whose heartbeat
    stopped EMAIL_SENDING_STALE_SECONDS ago (their worker died; they go back to
    `queued`). Each re-send bumps `next_attempt_at`, so a row is re-sent at most
    once per threshold. Called by the beat task `patolab.notifications.sweep`
    (every EMAIL_SWEEP_EVERY_SECONDS)."""
    now = timezone.now()
    sending_stale = sending_stale_after()
    queued_stale = queued_stale_after()
    requeued = 0
    stuck_sending = list(
        EmailLog.objects.filter(
            status=EmailStatus.SENDING,
            sending_started_at__lt=now - sending_stale,
        ).values_list("pk", flat=True)[:500]
    )
    for pk in stuck_sending:
        with transaction.atomic():
            if EmailLog.objects.filter(
                pk=pk,
                status=EmailStatus.SENDING,
                sending_started_at__lt=now - sending_stale,
            ).update(
                status=EmailStatus.QUEUED,
                next_attempt_at=now,
                last_error=_("El envío quedó interrumpido; se reintenta."),
            ):
                email_log_enqueue(pk)
                requeued += 1
    overdue = list(
        EmailLog.objects.filter(status=EmailStatus.QUEUED)
        .filter(
            Q(next_attempt_at__lt=now - queued_stale)
            | Q(next_attempt_at__isnull=True, created_at__lt=now - queued_stale)
        )
        .values_list("pk", flat=True)[:500]
    )
    resent = 0
    for pk in overdue:
        with transaction.atomic():
            if (
                EmailLog.objects.filter(pk=pk, status=EmailStatus.QUEUED)
                .filter(
                    Q(next_attempt_at__lt=now - queued_stale)
                    | Q(next_attempt_at__isnull=True)
                )
                .update(next_attempt_at=now)
            ):
                email_log_enqueue(pk)
                resent += 1
    return {"requeued_sending": requeued, "resent_queued": resent}


def email_log_resend(*, log: EmailLog) -> bool:
    """Put a `failed` row back in the queue (admin action). Returns False for a
    row in any other state. Side effects: status `queued`, attempts reset, one
    task sent on commit."""
    with transaction.atomic():
        now = timezone.now()
        updated = EmailLog.objects.filter(pk=log.pk, status=EmailStatus.FAILED).update(
            status=EmailStatus.QUEUED, attempts=0, next_attempt_at=now, retry_from=now
        )
        if updated:
            email_log_enqueue(log.pk)
    return bool(updated)
