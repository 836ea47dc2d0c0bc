"""The audit trail in the admin: searchable, read-only. No add, change or
delete permission for anyone (superusers included), and no bulk delete."""

from __future__ import annotations

from typing import Any

from auditlog.admin import LogEntryAdmin
from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEntry

# django-auditlog registers its admin for the swapped-in model; ours replaces it.
if admin.site.is_registered(AuditEntry):
    admin.site.unregister(AuditEntry)


@admin.register(AuditEntry)
class AuditEntryAdmin(LogEntryAdmin):  # type: ignore[misc]  # untyped library base
    list_display = [
        "created",
        "via",
        "user_url",
        "resource_url",
        "action",
        "protocol_id",
        "msg_short",
    ]
    list_filter = ["via", "action", "content_type"]
    search_fields = [
        "object_repr",
        "changes",
        "actor__username",
        "actor__first_name",
        "actor__last_name",
        "actor_email",
        "remote_addr",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "created",
                    "user_url",
                    "via",
                    "remote_addr",
                    "resource_url",
                    "protocol_id",
                ]
            },
        ),
        ("Cambios", {"fields": ["action", "msg"]}),
    ]
    readonly_fields = [
        "created",
        "resource_url",
        "action",
        "user_url",
        "msg",
        "via",
        "remote_addr",
        "protocol_id",
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: Any, search_term: str
    ) -> Any:
        # A number also finds a protocol's whole trail by its id.
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip().isdigit():
            results = results | queryset.filter(protocol_id=int(search_term.strip()))
        return results, duplicates

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
