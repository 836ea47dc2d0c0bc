from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from patolab.accounts.permissions import AuthenticatedHttpRequest
from patolab.core.errors import DomainError

from .models import Report, ReportPdf
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


@admin.register(Report)
class ReportAdmin(BaseReportAdmin):
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
    ) -> None:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        try:
            job = report_regenerate_start(user=request.user, report_ids=ids)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        url = reverse("jobs:detail", kwargs={"pk": job.pk})
        self.message_user(
            request,
            format_html(
                str(
                    _(
                        "Regeneración de {} informes en curso: "
                        '<a href="{}">ver progreso</a>.'
                    )
                ),
                len(ids),
                url,
            ),
        )
