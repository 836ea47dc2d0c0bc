from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from patolab.core.retry import DATABASE_TRANSIENT_ERRORS

from .services import job_claim, job_execute, job_sweep


@shared_task(
    name="patolab.jobs.run",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # The claim itself met a lost database connection: deliver again soon
    # (Celery's Django fixup drops the broken connection before each run)
    # rather than wait for the sweeper's JOBS_STUCK_QUEUED_SECONDS.
    autoretry_for=DATABASE_TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=30,
    retry_jitter=True,
    retry_kwargs={"max_retries": 5},
)
def job_run(self: Task[Any, Any], job_id: str) -> dict[str, Any]:
    """Run one Job by id. Safe to deliver twice: claiming is a conditional UPDATE
    and handlers are idempotent. Transient errors retry with capped backoff."""
    # A worker always sets the delivery id; without one there is nothing to claim.
    task_id = self.request.id
    job = job_claim(job_id=job_id, task_id=task_id) if task_id else None
    if job is None:
        return {"job": job_id, "skipped": True}
    outcome = job_execute(job=job)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in, max_retries=outcome.max_retries)
    return outcome.summary


@shared_task(name="patolab.jobs.sweep", acks_late=True)
def job_sweep_stuck() -> dict[str, int]:
    """Beat: re-send jobs stuck in `queued` and recover `running` jobs whose
    worker died. Idempotent: each re-send is a conditional UPDATE."""
    return job_sweep()
