"""The job layer: start (idempotent, enqueued on commit), claim, run, record.

Every user-visible background operation is a Job row (DESIGN section 4). The Celery
message carries only the job id; the row holds state, progress, result and error.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.accounts.models import User
from patolab.core.db import insert_unless_conflict, update_one_returning
from patolab.core.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from patolab.core.heartbeat import Heartbeat
from patolab.core.retry import (
    DATABASE_TRANSIENT_ERRORS,
    database_reconnect,
    retry_delay,
    retry_on_lost_connection,
)

from .models import Job, JobState
from .registry import JobKind, get_kind
from .selectors import job_active_for, job_latest_for, target_key

logger = logging.getLogger(__name__)
events_logger = logging.getLogger("patolab.jobs.events")

PROGRESS_MIN_INTERVAL = 0.5  # seconds between progress writes


def job_start(
    *,
    kind: str,
    target: models.Model | str | None = None,
    params: dict[str, Any] | None = None,
    user: User | None = None,
    total: int = 0,
) -> Job:
    """Create a job and send it to its queue after the current transaction commits.

    Idempotent per (kind, target) while a job is active: returns the active job
    instead of creating another (a partial unique constraint backs this up under
    concurrency). Jobs without a target are never merged.
    """
    spec = get_kind(kind)
    key = target_key(target)
    fields: dict[str, Any] = {
        "kind": kind,
        "target": key,
        "params": params or {},
        "queue": spec.queue,
        "requested_by": user if user and user.is_authenticated else None,
        "celery_task_id": str(uuid.uuid4()),
        "queued_at": timezone.now(),
        "progress_total": total,
    }
    # Insert first, with ON CONFLICT DO NOTHING: the partial unique constraint
    # on active (kind, target) makes the INSERT insert nothing when a job is
    # active, and that one is returned. One statement on the common path: no
    # "is one active?" query and no savepoint (a refused INSERT does not abort
    # the caller's transaction). The active job may finish between the refused
    # INSERT and the lookup: then that just-finished job is the answer (it ran
    # for this very request's purpose), never a second INSERT.
    job = Job(**fields)
    if insert_unless_conflict(job):
        _send_on_commit(job=job)
        return job
    if key:
        existing = job_active_for(kind=kind, target=key) or job_latest_for(
            kind=kind, target=key
        )
        if existing is not None:
            return existing
    raise IntegrityError(f"job {kind} for {key!r} refused and none found")


def _send_on_commit(*, job: Job) -> None:
    job_id, task_id, kind = str(job.pk), job.celery_task_id, job.kind

    # A named function, not a functools.partial: Django 5.2 logs a robust
    # callback's error with its __qualname__, which a partial lacks, so a
    # broker failure raised AttributeError out of the commit (django ticket
    # #36487) and failed the request or the job instead of being logged.
    def send_job() -> None:
        job_send(job_id=job_id, task_id=task_id, kind=kind)

    transaction.on_commit(send_job, robust=True)


def job_send(*, job_id: str, task_id: str, kind: str) -> None:
    """Publish the job's message. A broker failure here is logged and left to the
    sweeper, which re-sends jobs stuck in `queued`."""
    spec = get_kind(kind)
    current_app.send_task(
        "patolab.jobs.run",
        args=[job_id],
        task_id=task_id,
        queue=spec.queue,
        shadow=kind,
    )


def job_claim(*, job_id: str, task_id: str) -> Job | None:
    """Take a job for this delivery with one conditional UPDATE.

    Only the message the row expects (its current task id) may claim it: a queued
    job at once; a running one only when this is a redelivery of the same message
    whose earlier run stopped heart-beating (its worker died). A stale copy of a
    message the sweeper replaced, or a duplicate of a live run, gets None.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=2 * settings.JOBS_HEARTBEAT_SECONDS)
    # A redelivery of a run that died (its worker was killed) counts against
    # JOBS_MAX_ATTEMPTS: such a run is claimable only below the limit, and a
    # job that kills its worker every time is failed below instead. (The
    # UPDATE comes first: the common case is one statement.)
    claimable = Q(state=JobState.QUEUED) | Q(
        state=JobState.RUNNING,
        heartbeat_at__lt=stale,
        attempts__lt=settings.JOBS_MAX_ATTEMPTS,
    )
    job = update_one_returning(
        Job.objects.filter(pk=job_id, celery_task_id=task_id).filter(claimable),
        state=JobState.RUNNING,
        celery_task_id=task_id,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    if job is None:
        job_fail_poisoned(
            jobs=Job.objects.filter(
                pk=job_id,
                celery_task_id=task_id,
                state=JobState.RUNNING,
                heartbeat_at__lt=stale,
            )
        )
        logger.info(
            "job %s not claimed by task %s (finished, owned or poisoned)",
            job_id,
            task_id,
        )
        return None
    job_event(job, "running")
    return job


def poisoned_message(attempts: int) -> str:
    return _(
        "El trabajo detuvo el worker %(n)s veces y no se reintenta "
        "automáticamente. Revise el error y reinténtelo desde el monitor."
    ) % {"n": attempts}


def job_fail_poisoned(*, jobs: models.QuerySet[Job]) -> int:
    """Fail the jobs of `jobs` (running ones whose run died) that already used
    JOBS_MAX_ATTEMPTS, instead of sending them again. Returns how many."""
    failed = 0
    limit = settings.JOBS_MAX_ATTEMPTS
    for job in jobs.filter(attempts__gte=limit):
        updated = Job.objects.filter(
            pk=job.pk, state=JobState.RUNNING, celery_task_id=job.celery_task_id
        ).update(
            state=JobState.FAILED,
            error=poisoned_message(job.attempts),
            finished_at=timezone.now(),
        )
        if updated:
            failed += 1
            job.state = JobState.FAILED
            logger.error(
                "job %s (%s) failed: killed its worker %s times",
                job.pk,
                job.kind,
                job.attempts,
            )
            job_event(job, JobState.FAILED, error="worker lost")
    return failed


def job_event(job: Job, state: str, **extra: Any) -> None:
    """One JSON line per job state change on the `patolab.jobs.events` logger
    when JOBS_LOG_JSON is on (id, kind, queue, state, attempt, duration)."""
    if not settings.JOBS_LOG_JSON:
        return
    started = job.started_at
    event: dict[str, Any] = {
        "event": "job",
        "id": str(job.pk),
        "kind": job.kind,
        "queue": job.queue,
        "state": str(state),
        "attempt": job.attempts,
        "duration": round((timezone.now() - started).total_seconds(), 3)
        if started and state != JobState.RUNNING
        else None,
        **extra,
    }
    events_logger.info(json.dumps(event, default=str))


def _owned(job: Job) -> models.QuerySet[Job]:
    # Writes from a run are conditional on still owning the job, so a zombie run
    # (e.g. one the sweeper already replaced) can never overwrite the live one.
    return Job.objects.filter(
        pk=job.pk, state=JobState.RUNNING, celery_task_id=job.celery_task_id
    )


class Progress:
    """Progress reporter handed to handlers; writes at a bounded rate."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._last_write = 0.0

    def __call__(
        self, current: int, total: int | None = None, *, force: bool = False
    ) -> None:
        self.job.progress_current = current
        if total is not None:
            self.job.progress_total = total
        now = time.monotonic()
        done = self.job.progress_total and current >= self.job.progress_total
        if not (force or done or now - self._last_write >= PROGRESS_MIN_INTERVAL):
            return
        self._last_write = now
        _owned(self.job).update(
            progress_current=current,
            progress_total=self.job.progress_total,
            heartbeat_at=timezone.now(),
        )


@dataclass
class Outcome:
    summary: dict[str, Any]
    retry_in: float | None = None
    max_retries: int = 0


def job_execute(*, job: Job) -> Outcome:
    """Run a claimed job's handler and record the result or error on the row.

    Transient errors (as registered for the kind) ask the caller to retry later
    while attempts remain; other errors fail the job with a readable message.
    """
    spec: JobKind = get_kind(job.kind)
    progress = Progress(job)
    summary: dict[str, Any] = {"job": str(job.pk), "kind": job.kind}
    # A lost database connection is transient for every kind (handlers are
    # idempotent): retry on a new connection rather than fail the job.
    transient = (*spec.retry_on, *DATABASE_TRANSIENT_ERRORS)
    try:
        with Heartbeat(
            lambda: _owned(job).update(heartbeat_at=timezone.now()),
            every=settings.JOBS_HEARTBEAT_SECONDS,
            what=f"job {job.pk}",
        ):
            result = spec.handler(job, progress)
    except transient as exc:
        if isinstance(exc, DATABASE_TRANSIENT_ERRORS):
            database_reconnect()
        if job.attempts >= spec.max_attempts:
            job_fail(job=job, error=_error_text(exc))
            return Outcome({**summary, "state": JobState.FAILED})
        delay = retry_delay(job.attempts)
        job_event(job, "retrying", retry_in=round(delay, 2))
        error = _("Reintentando tras un error transitorio: %(error)s") % {
            "error": _error_text(exc)
        }
        retry_on_lost_connection(
            lambda: _owned(job).update(
                state=JobState.QUEUED,
                error=error,
                queued_at=timezone.now() + timedelta(seconds=delay),
            ),
            what=f"job {job.pk}",
        )
        logger.warning("job %s transient error, retry in %.1fs: %s", job.pk, delay, exc)
        return Outcome(
            {**summary, "state": "retrying"},
            retry_in=delay,
            max_retries=spec.max_attempts,
        )
    except SoftTimeLimitExceeded:
        job_fail(job=job, error=_("El trabajo superó el tiempo máximo permitido."))
        return Outcome({**summary, "state": JobState.FAILED})
    except Exception as exc:
        if not isinstance(exc, DomainError):
            logger.exception("job %s failed", job.pk)
        job_fail(job=job, error=_error_text(exc))
        return Outcome({**summary, "state": JobState.FAILED})
    job_succeed(job=job, result=result)
    return Outcome({**summary, "state": JobState.SUCCEEDED})


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"[:2000]


def job_succeed(*, job: Job, result: dict[str, Any] | None) -> None:
    fields: dict[str, Any] = {
        "state": JobState.SUCCEEDED,
        "result": result or {},
        "error": "",
        "finished_at": timezone.now(),
    }
    if job.progress_total:
        fields["progress_current"] = job.progress_total
    # The work is done: a lost connection must not make it run again.
    if retry_on_lost_connection(
        lambda: _owned(job).update(**fields), what=f"job {job.pk}"
    ):
        job_event(job, JobState.SUCCEEDED)


def job_fail(*, job: Job, error: str) -> None:
    if retry_on_lost_connection(
        lambda: _owned(job).update(
            state=JobState.FAILED, error=error, finished_at=timezone.now()
        ),
        what=f"job {job.pk}",
    ):
        job_event(job, JobState.FAILED, error=error[:200])


@transaction.atomic
def job_retry(*, job: Job, user: User) -> Job:
    """Run a failed job again (admins). 409 for a job that is not failed or when
    another job for the same target is already active."""
    task_id = str(uuid.uuid4())
    try:
        with transaction.atomic():
            updated = Job.objects.filter(pk=job.pk, state=JobState.FAILED).update(
                state=JobState.QUEUED,
                error="",
                attempts=0,
                progress_current=0,
                result=None,
                celery_task_id=task_id,
                queued_at=timezone.now(),
                started_at=None,
                finished_at=None,
                heartbeat_at=None,
            )
    except IntegrityError:
        raise Conflict(
            _("Ya hay otro trabajo activo para el mismo objeto."), code="job_active"
        ) from None
    if updated != 1:
        raise Conflict(
            _("Solo se puede reintentar un trabajo fallido."), code="job_not_failed"
        )
    job.refresh_from_db()
    _send_on_commit(job=job)
    return job


def job_sweep() -> dict[str, int]:
    """Re-send jobs the broker lost or whose worker died (beat, every ~30 s).

    `queued` jobs older than JOBS_STUCK_QUEUED_SECONDS were never picked up (Redis
    keeps nothing on disk, or the send after commit failed). `running` jobs whose
    heartbeat is older than JOBS_STALE_RUNNING_SECONDS lost their worker; on Redis
    the unacked message would only come back after the visibility timeout. Each
    gets a new task id, so a late copy of the old message cannot claim it.
    """
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.JOBS_STUCK_QUEUED_SECONDS)
    stale_before = now - timedelta(seconds=settings.JOBS_STALE_RUNNING_SECONDS)
    candidates = Job.objects.filter(
        Q(state=JobState.QUEUED, queued_at__lt=stuck_before)
        | Q(state=JobState.RUNNING, heartbeat_at__lt=stale_before)
    ).values_list("pk", "state", "celery_task_id")
    counts = {"requeued": 0, "recovered": 0, "failed": 0}
    # Running jobs whose worker died JOBS_MAX_ATTEMPTS times are failed, not
    # re-sent: a job that crashes its worker must not be re-sent forever.
    counts["failed"] = job_fail_poisoned(
        jobs=Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=stale_before)
    )
    for pk, state, old_task_id in candidates[:500]:
        task_id = str(uuid.uuid4())
        with transaction.atomic():
            updated = Job.objects.filter(
                pk=pk, state=state, celery_task_id=old_task_id
            ).update(
                state=JobState.QUEUED, celery_task_id=task_id, queued_at=timezone.now()
            )
            if updated:
                job = Job.objects.get(pk=pk)
                _send_on_commit(job=job)
                counts["requeued" if state == JobState.QUEUED else "recovered"] += 1
                logger.warning("job sweeper re-sent %s job %s", state, pk)
                job_event(job, JobState.QUEUED, resent_from=state)
    return counts


class DocumentJobs:
    """The jobs port of the document pipeline (`patolab.core.documents`): core
    sits below this app and cannot import it, so `JobsConfig.ready` plugs this in."""

    def start(
        self, *, kind: str, target: models.Model, params: dict[str, Any], user: Any
    ) -> Job:
        return job_start(kind=kind, target=target, params=params, user=user)

    def latest(self, *, kind: str, target: models.Model) -> Job | None:
        return job_latest_for(kind=kind, target=target)


RETRY_MANY_KIND = "system.retry_failed"
RETRY_MANY_MAX = 1000


def jobs_retry_many_start(*, job_ids: list[Any], user: User) -> Job:
    """One `system.retry_failed` job (queue `bulk`) that retries the given failed
    jobs: the admin's bulk action. Admins only (403); 400 for an empty or
    oversized selection. Writes one Job row; never loops in the request."""
    if not user.is_admin_role:
        raise NotAllowed(
            _("Solo la administración puede reintentar trabajos."),
            code="forbidden_role",
        )
    ids = [str(pk) for pk in dict.fromkeys(job_ids)]
    if not ids or len(ids) > RETRY_MANY_MAX:
        raise ValidationFailed(
            _("Seleccione entre 1 y %(n)s trabajos.") % {"n": RETRY_MANY_MAX},
            errors={"job_ids": [_("Cantidad no permitida.")]},
        )
    return job_start(
        kind=RETRY_MANY_KIND, params={"job_ids": ids}, user=user, total=len(ids)
    )


def jobs_retry_many_run(
    *, job_ids: list[str], user: User | None, progress: Progress
) -> dict[str, Any]:
    """Body of `system.retry_failed`: `job_retry` per job. Idempotent: a job
    already retried is no longer failed and is reported, not retried again."""
    from .registry import kind_title

    jobs = Job.objects.in_bulk(job_ids)
    items: list[dict[str, Any]] = []
    for index, pk in enumerate(job_ids, start=1):
        job = jobs.get(uuid.UUID(pk))
        item: dict[str, Any] = {"id": pk, "ok": False, "error": None}
        if job is None:
            item["error"] = _("El trabajo no existe.")
        else:
            item["code"] = kind_title(job.kind)
            try:
                if user is None:
                    raise Conflict(_("Falta quién lo pidió."), code="no_user")
                job_retry(job=job, user=user)
            except DomainError as exc:
                item["error"] = exc.message
            else:
                item.update(ok=True, detail=_("Vuelto a la cola."))
        items.append(item)
        progress(index, len(job_ids))
    ok = sum(1 for item in items if item["ok"])
    return {
        "succeeded": ok,
        "failed": len(items) - ok,
        "items": items,
        "message": _("%(ok)s trabajos reintentados, %(bad)s sin cambios.")
        % {"ok": ok, "bad": len(items) - ok},
    }
