from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from .models import LabelBatch, LabelDocument

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
