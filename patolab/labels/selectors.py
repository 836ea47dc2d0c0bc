"""Reads for labels. Only lab staff and admins print labels; views and endpoints
check the role first, so these selectors need no per-vet scoping."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from patolab.accounts.models import Role, User
from patolab.accounts.permissions import STAFF_ROLES, has_role, require_role
from patolab.protocols.models import Protocol

from .models import LabelBatch


def label_protocol_get(*, pk: Any) -> Protocol:
    """The protocol with what its labels print (404 when missing)."""
    return get_object_or_404(
        Protocol.objects.select_related("reception", "label_document"), pk=pk
    )


def label_protocol_get_for(*, user: User, pk: Any) -> Protocol:
    """A protocol whose labels `user` may print: lab staff and admins (403 for
    other roles, before anything is looked up), 404 when missing."""
    require_role(user, *STAFF_ROLES)
    try:
        number = int(str(pk))
    except ValueError:
        raise Http404 from None
    return label_protocol_get(pk=number)


def label_protocols_received() -> QuerySet[Protocol]:
    """Received protocols (those with labels), most recently received first."""
    return (
        Protocol.objects.filter(protocol_number__isnull=False, reception__isnull=False)
        .select_related("reception")
        .order_by("-reception__received_at", "-id")
    )


def label_batch_get_for(*, user: User, pk: Any) -> LabelBatch:
    """A batch its requester or an admin may download; 404 for anyone else."""
    qs = LabelBatch.objects.all()
    if not has_role(user, Role.ADMIN):
        staff = has_role(user, *STAFF_ROLES)
        qs = qs.filter(requested_by=user) if staff else qs.none()
    return get_object_or_404(qs, pk=pk)
