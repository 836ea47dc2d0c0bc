from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import EmailLog, EmailStatus
from .services import email_log_resend


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
    actions = ["resend_failed"]
    readonly_fields = [f.name for f in EmailLog._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Reenviar los e-mails fallidos seleccionados"))
    def resend_failed(self, request: HttpRequest, queryset: QuerySet[EmailLog]) -> None:
        resent = sum(
            email_log_resend(log=log)
            for log in queryset.filter(status=EmailStatus.FAILED)
        )
        skipped = queryset.count() - resent
        self.message_user(
            request,
            ngettext(
                "%(n)d e-mail vuelto a la cola.",
                "%(n)d e-mails vueltos a la cola.",
                resent,
            )
            % {"n": resent},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                _("%(n)d no estaban fallidos y se dejaron como estaban.")
                % {"n": skipped},
                messages.WARNING,
            )
