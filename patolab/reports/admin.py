from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from patolab.accounts.permissions import AuthenticatedHttpRequest
from patolab.jobs.admin_actions import BulkJobsBannerMixin, bulk_action_start
from patolab.notifications.admin import EmailLogAdmin
from patolab.notifications.models import EmailLog
from patolab.protocols.admin import ProtocolAdmin
from patolab.protocols.models import Protocol

from .models import Report, ReportPdf
from .resend import email_logs_resend_start, notifications_bulk_start
from .services import report_regenerate_start

if TYPE_CHECKING:
    # Generic only in django-stubs; at runtime these take no type arguments.
    PdfInline = admin.TabularInline[ReportPdf, Report]
    BaseReportAdmin = admin.ModelAdmin[Report]
else:
    PdfInline = admin.TabularInline
    BaseReportAdmin = admin.ModelAdmin


class ReportPdfInline(PdfInline):
    model = ReportPdf
    extra = 0
    can_delete = False
    fields = ("created_at", "reason", "sha256", "size", "file")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(BulkJobsBannerMixin, BaseReportAdmin):
    list_display = (
        "protocol",
        "version",
        "status",
        "animal",
        "veterinarian",
        "histopathologist",
        "finalized_at",
        "short_hash",
    )
    list_filter = ("status", "protocol__analysis_type", "histopathologist")
    search_fields = (
        "protocol__protocol_number",
        "protocol__temporary_code",
        "protocol__animal_name",
        "protocol__veterinarian__full_name",
        "pdf_sha256",
    )
    list_select_related = ("protocol", "protocol__veterinarian", "histopathologist")
    date_hierarchy = "created_at"
    raw_id_fields = ("protocol", "supersedes", "histopathologist")
    # Content changes go through the services (drafts via the editor); the
    # admin is for looking and for bulk actions.
    readonly_fields = (
        "status",
        "verification_id",
        "pdf_file",
        "pdf_sha256",
        "finalized_at",
        "sent_at",
        "created_at",
        "updated_at",
    )
    inlines = [ReportPdfInline]
    actions = ["regenerate_pdfs"]

    @admin.display(description=_("animal"), ordering="protocol__animal_name")
    def animal(self, obj: Report) -> str:
        return obj.protocol.animal_name

    @admin.display(description=_("veterinario/a"))
    def veterinarian(self, obj: Report) -> str:
        return obj.protocol.veterinarian.full_name

    @admin.display(description="SHA-256")
    def short_hash(self, obj: Report) -> str:
        return obj.pdf_sha256[:12]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != "draft":
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description=_("Regenerar PDF"))
    def regenerate_pdfs(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Report]
    ) -> HttpResponse | None:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        return bulk_action_start(
            self,
            request,
            lambda: report_regenerate_start(user=request.user, report_ids=ids),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Reports are written in the editor (drafts, finalization), never here.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A finalized or sent report is part of the record: amend it instead.
        if obj is not None and obj.status != "draft":
            return False
        return super().has_delete_permission(request, obj)


# ------------------------------------------------ e-mail bulk actions (jobs)
# Re-sending reads protocols and reports, so these admin actions live here,
# above the outbox and the protocols app, and attach themselves to their admins.
def _protocol_ids(queryset: QuerySet[Protocol]) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True))


@admin.action(description=_("Reenviar el e-mail de recepción"))
def resend_reception_email(
    modeladmin: ProtocolAdmin, request: HttpRequest, queryset: QuerySet[Protocol]
) -> HttpResponse | None:
    ids = _protocol_ids(queryset)
    return bulk_action_start(
        modeladmin,
        request,
        lambda: notifications_bulk_start(
            protocol_ids=ids, email_type="reception", user=request.user
        ),
    )


@admin.action(description=_("Reenviar el e-mail del informe"))
def resend_report_email(
    modeladmin: ProtocolAdmin, request: HttpRequest, queryset: QuerySet[Protocol]
) -> HttpResponse | None:
    ids = _protocol_ids(queryset)
    return bulk_action_start(
        modeladmin,
        request,
        lambda: notifications_bulk_start(
            protocol_ids=ids, email_type="report_ready", user=request.user
        ),
    )


ProtocolAdmin.actions = [
    *ProtocolAdmin.actions,
    resend_reception_email,
    resend_report_email,
]


class EmailLogJobsAdmin(BulkJobsBannerMixin, EmailLogAdmin):
    actions = ["resend_failed"]

    @admin.action(description=_("Reenviar los e-mails fallidos seleccionados"))
    def resend_failed(
        self, request: HttpRequest, queryset: QuerySet[EmailLog]
    ) -> HttpResponse | None:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        return bulk_action_start(
            self,
            request,
            lambda: email_logs_resend_start(log_ids=ids, user=request.user),
        )


admin.site.unregister(EmailLog)
admin.site.register(EmailLog, EmailLogJobsAdmin)
