from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from patolab.accounts.models import User

from .models import Job


def job_list_for(*, user: User, state: str = "", kind: str = "") -> QuerySet[Job]:
    """The caller's jobs; admins see all."""
    qs = Job.objects.select_related("requested_by")
    if not user.is_admin_role:
        qs = qs.filter(requested_by=user)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at")


def job_get_for(*, user: User, pk: object) -> Job:
    """A job its requester or an admin may see; 404 otherwise (never 403)."""
    return get_object_or_404(job_list_for(user=user), pk=pk)
