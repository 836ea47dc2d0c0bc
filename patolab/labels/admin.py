from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from patolab.jobs.admin_actions import bulk_action_start
from patolab.protocols.admin import ProtocolAdmin
from patolab.protocols.models import Protocol

from .models import LabelBatch, LabelDocument
from .services import start_label_batch

if TYPE_CHECKING:
    # ModelAdmin is generic only in django-stubs; at runtime it takes no arguments.
    DocumentAdmin = admin.ModelAdmin[LabelDocument]
    BatchAdmin = admin.ModelAdmin[LabelBatch]
else:
    DocumentAdmin = BatchAdmin = admin.ModelAdmin


@admin.register(LabelDocument)
class LabelDocumentAdmin(DocumentAdmin):
    """Read-only: label files are produced by jobs, never edited by hand."""

    list_display = ("protocol", "pages", "size", "created_at")
    search_fields = ("protocol__protocol_number",)
    readonly_fields = ("protocol", "fingerprint", "file", "sha256", "size", "pages")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(LabelBatch)
class LabelBatchAdmin(BatchAdmin):
    list_display = ("id", "requested_by", "pages", "created_at")
    readonly_fields = ("job_id", "requested_by", "protocol_ids", "file", "sha256")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.action(description=_("Imprimir etiquetas (un PDF con todas)"))
def print_labels(
    modeladmin: ProtocolAdmin, request: HttpRequest, queryset: QuerySet[Protocol]
) -> HttpResponse | None:
    """Protocol changelist action: one `labels.batch` job for the selection."""
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    return bulk_action_start(
        modeladmin,
        request,
        lambda: start_label_batch(protocol_ids=ids, user=request.user),  # type: ignore[arg-type]
    )


# The labels app sits above protocols, so it adds its action to their admin.
ProtocolAdmin.actions = [*ProtocolAdmin.actions, print_labels]
