"""Reads for labels. Only lab staff and admins print labels; views and endpoints
check the role first, so these selectors need no per-vet scoping."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from patolab.accounts.models import Role, User
from patolab.accounts.permissions import STAFF_ROLES, has_role, require_role
from patolab.core.documents import DocumentProbe, printed_digest, stored_row
from patolab.core.prepared import prepared_row
from patolab.protocols.models import Protocol

from .documents import LABEL_PRINTED, label_filename_for
from .models import LabelBatch, LabelDocument


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


def label_pdf_probe(*, user: User, pk: int) -> DocumentProbe | None:
    """The lean read of a protocol's labels GET (`document_serve_current`):
    lab staff and admins only, the printed-rows digest and the stored labels'
    row. None for other roles or a missing protocol: the full path answers."""
    if not has_role(user, *STAFF_ROLES):
        return None

    def build(marks: dict[str, int]) -> QuerySet[Any]:
        return (
            Protocol.objects.filter(pk=marks["pk"])
            .order_by()
            .values("protocol_number", "temporary_code")
            .annotate(
                printed=printed_digest(Protocol, LABEL_PRINTED),
                stored=stored_row(
                    LabelDocument.objects.filter(protocol=OuterRef("pk")).order_by()
                ),
            )
        )

    row = prepared_row(("labels.pdf_probe",), build, pk=pk)
    if row is None:
        return None
    code = row["protocol_number"] or row["temporary_code"] or ""
    return DocumentProbe(
        digest=row["printed"],
        stored=row["stored"],
        filename=label_filename_for(code=code, pk=pk),
    )


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
