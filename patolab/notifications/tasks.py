from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from patolab.core.retry import DATABASE_TRANSIENT_ERRORS

from .services import email_log_deliver, email_log_sweep


@shared_task(
    name="patolab.notifications.email_send",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # unbounded here: the service gives up by age
    # A lost database connection before SMTP was reached (the claim): deliver
    # again soon instead of waiting for the sweeper (EMAIL_QUEUED_STALE_SECONDS).
    # Celery counts these with the SMTP retries: past 5 the sweeper takes over.
    autoretry_for=DATABASE_TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=30,
    retry_jitter=True,
    retry_kwargs={"max_retries": 5},
)
def email_send(self: Task[Any, Any], email_log_id: int) -> dict[str, Any]:
    """Deliver one EmailLog row. Safe to deliver twice: the row is claimed with a
    conditional UPDATE and a sent row is a no-op. Transient SMTP failures retry
    with capped exponential backoff and jitter; the service decides when to give
    up (EMAIL_RETRY_FOR_SECONDS), so Celery's own retry count is unbounded."""
    result = email_log_deliver(email_log_id=email_log_id)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return {"email": email_log_id, "outcome": result.outcome}


@shared_task(name="patolab.notifications.sweep", acks_late=True)
def email_sweep() -> dict[str, int]:
    """Beat: re-enqueue e-mails whose broker message or worker was lost."""
    return email_log_sweep()
