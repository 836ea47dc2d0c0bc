"""Reads of exports: who may download what."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from patolab.accounts.models import User

from .models import Export


def export_list_for(*, user: User) -> QuerySet[Export]:
    """Exports the user may download: their own, all for admins; never an
    expired one."""
    qs = Export.objects.filter(
        expired_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("requested_by")
    if not user.is_admin_role:
        qs = qs.filter(requested_by=user)
    return qs


def export_get_for(*, user: User, pk: object) -> Export:
    """One downloadable export; Http404 for another user's, an expired or a
    missing one (never 403: the file's existence is not revealed)."""
    return get_object_or_404(export_list_for(user=user), pk=pk)
