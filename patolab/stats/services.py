"""Writes for statistics: store a day's figures, the scheduled daily run with
its e-mail to the admins, and recomputation of a date range as a job."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.accounts.models import User
from patolab.core.errors import ValidationFailed
from patolab.jobs.models import Job
from patolab.jobs.services import Progress, job_start
from patolab.notifications import emails

from .jobs import RECOMPUTE_KIND
from .models import DailyStatistics
from .selectors import MAX_RANGE_DAYS, admin_recipients, daily_statistics_compute


def daily_statistics_store(*, day: date) -> DailyStatistics:
    """Compute `day` from the live tables and store it, replacing an earlier
    row of the same date. Refuses today and later (ValidationFailed): a day is
    stored only once it is over. Idempotent."""
    if day >= timezone.localdate():
        raise ValidationFailed(
            _("Solo se guardan estadísticas de días terminados."), code="day_not_over"
        )
    figures = daily_statistics_compute(day=day)
    figures.pop("stored", None)
    computed_at = timezone.now()
    figures.pop("computed_at", None)
    figures.pop("date", None)
    row, _created = DailyStatistics.objects.update_or_create(
        date=day, defaults={"figures": figures, "computed_at": computed_at}
    )
    return row


def daily_statistics_run_scheduled(*, day: date | None = None) -> dict[str, Any]:
    """The beat's daily run: store yesterday (or `day`) and e-mail every admin
    the summary through the outbox. Safe to run twice: the row is replaced with
    the same figures and each admin's e-mail has a per-date idempotency key."""
    day = day or timezone.localdate() - timedelta(days=1)
    with transaction.atomic():
        row = daily_statistics_store(day=day)
        figures = row.as_dict()
        url = emails.absolute_url(reverse("stats:page"))
        sent = [
            emails.daily_stats(user=user, figures=figures, url=url).pk
            for user in admin_recipients()
        ]
    return {"date": day.isoformat(), "emails": len(sent)}


def validate_range(*, first: date, last: date) -> None:
    """A recomputable range: first <= last < today, at most MAX_RANGE_DAYS."""
    errors: dict[str, list[str]] = {}
    if last >= timezone.localdate():
        errors["to"] = [_("La fecha final debe ser anterior a hoy.")]
    if first > last:
        errors["from"] = [_("La fecha inicial no puede ser posterior a la final.")]
    elif (last - first).days + 1 > MAX_RANGE_DAYS:
        errors["from"] = [
            _("El rango no puede superar %(days)s días.") % {"days": MAX_RANGE_DAYS}
        ]
    if errors:
        raise ValidationFailed(
            _("Rango de fechas inválido."), code="invalid_range", errors=errors
        )


def daily_statistics_request_recompute(*, first: date, last: date, user: User) -> Job:
    """Start (or join, for the same range) a job that recomputes and stores
    every day from `first` to `last`. Admins only (callers check). Sends no
    e-mail: the daily summary goes out once, from the scheduled run."""
    validate_range(first=first, last=last)
    return job_start(
        kind=RECOMPUTE_KIND,
        target=f"stats.range:{first.isoformat()}:{last.isoformat()}",
        params={"from": first.isoformat(), "to": last.isoformat()},
        user=user,
        total=(last - first).days + 1,
    )


def daily_statistics_recompute_execute(
    *, job: Job, progress: Progress
) -> dict[str, Any]:
    """The body of the recompute job: one day at a time, progress per day.
    Idempotent (each day is replaced)."""
    first = date.fromisoformat(job.params["from"])
    last = date.fromisoformat(job.params["to"])
    total = (last - first).days + 1
    for index in range(total):
        daily_statistics_store(day=first + timedelta(days=index))
        progress(index + 1, total)
    return {
        "days": total,
        "message": _("Se recalcularon %(n)s días.") % {"n": total},
        "redirect_url": reverse("stats:page"),
    }
