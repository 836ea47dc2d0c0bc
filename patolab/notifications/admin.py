from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import EmailLog


@admin.register(EmailLog)
class EmailLogAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "created_at",
        "kind",
        "protocol",
        "recipient",
        "subject",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("kind", "status", "created_at")
    search_fields = (
        "recipient",
        "subject",
        "protocol__protocol_number",
        "protocol__temporary_code",
        "idempotency_key",
    )
    date_hierarchy = "created_at"
    list_select_related = ("protocol",)
    raw_id_fields = ("protocol",)
    readonly_fields = [f.name for f in EmailLog._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # "Reenviar los e-mails fallidos" is a job started from patolab.reports.admin
    # (re-sending reads the domain, which this floor never imports).
