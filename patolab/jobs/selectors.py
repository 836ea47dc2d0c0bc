from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from patolab.accounts.models import Role, User
from patolab.accounts.permissions import INTERNAL_ROLES, has_role

from .models import ACTIVE_STATES, Job


def target_key(target: models.Model | str | None) -> str:
    """`"<app_label>.<model>:<pk>"` for a model instance; strings pass through."""
    if target is None:
        return ""
    if isinstance(target, str):
        return target
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}:{target.pk}"


def target_pk(job: Job) -> str:
    """The primary key part of a job's target."""
    return job.target.rsplit(":", 1)[-1]


def job_active_for(*, kind: str, target: models.Model | str) -> Job | None:
    """The queued or running job of `kind` for `target`, if any (at most one:
    a partial unique constraint)."""
    return (
        Job.objects.filter(
            kind=kind, target=target_key(target), state__in=ACTIVE_STATES
        )
        .order_by("-created_at")
        .first()
    )


def job_latest_for(*, kind: str, target: models.Model | str) -> Job | None:
    """The most recent job of `kind` for `target` in any state, or None."""
    return (
        Job.objects.filter(kind=kind, target=target_key(target))
        .order_by("-created_at")
        .first()
    )


def job_list_for(*, user: User, state: str = "", kind: str = "") -> QuerySet[Job]:
    """The caller's jobs (API.md); admins see all. Built on `job_visible_to`,
    so the list never shows a job that `job_get_for` would 404."""
    qs = job_visible_to(user=user)
    if not user.is_admin_role:
        qs = qs.filter(requested_by=user)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at")


def job_visible_to(*, user: User) -> QuerySet[Job]:
    """Jobs a user may open: their own; admins all; lab staff and pathologists
    also the jobs of lab colleagues and the system (shared lab work such as a
    label or work-order PDF a colleague started). Veterinarians only their own."""
    qs = Job.objects.select_related("requested_by")
    if user.is_admin_role:
        return qs
    if has_role(user, *INTERNAL_ROLES):
        colleagues = [Role.LAB_STAFF, Role.HISTOPATHOLOGIST, Role.ADMIN]
        return qs.filter(
            Q(requested_by=user)
            | Q(requested_by__isnull=True)
            | Q(requested_by__role__in=colleagues)
        )
    return qs.filter(requested_by=user)


def job_get_for(*, user: User, pk: object) -> Job:
    """A job the user may see (see job_visible_to); 404 otherwise (never 403)."""
    return get_object_or_404(job_visible_to(user=user), pk=pk)


BANNER_RECENT_MINUTES = 30


def job_bulk_banner_for(*, user: Any, limit: int = 5) -> list[Job]:
    """The admin's own bulk jobs for the changelist banner: running ones, and
    ones that finished in the last BANNER_RECENT_MINUTES (their summary)."""
    if not getattr(user, "is_authenticated", False):
        return []
    since = timezone.now() - timedelta(minutes=BANNER_RECENT_MINUTES)
    return list(
        Job.objects.filter(requested_by=user, queue="bulk")
        .filter(Q(state__in=ACTIVE_STATES) | Q(finished_at__gte=since))
        .order_by("-created_at")[:limit]
    )
