from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from patolab.core.errors import DomainError
from patolab.protocols.models import Protocol
from patolab.workorders.models import WorkOrder

from .models import Export
from .services import export_request

if TYPE_CHECKING:
    # ModelAdmin is generic only in django-stubs; at runtime it takes no arguments.
    BaseAdmin = admin.ModelAdmin[Export]
else:
    BaseAdmin = admin.ModelAdmin


@admin.register(Export)
class ExportAdmin(BaseAdmin):
    """Read-only: export files are produced by jobs and expire on their own."""

    list_display = (
        "created_at",
        "dataset",
        "format",
        "rows",
        "requested_by",
        "expires_at",
        "expired_at",
    )
    list_filter = ("dataset", "format")
    readonly_fields = (
        "id", "job", "requested_by", "dataset", "format", "filters", "rows",
        "file", "sha256", "size", "created_at", "expires_at", "expired_at",
    )  # fmt: skip

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


# ---------------------------------------------------------------- admin actions
# "Export the selection" on the protocol and work-order changelists. Added from
# here (the exports app sits above the domain apps and registers itself) so the
# domain admins never import upward.
def _export_selection(dataset: str, label: Any) -> Any:
    def action(
        modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponse | None:
        try:
            job = export_request(
                user=request.user,  # type: ignore[arg-type]
                dataset=dataset,
                format="xlsx",
                ids=list(queryset.values_list("pk", flat=True)),
            )
        except DomainError as exc:
            modeladmin.message_user(request, exc.message, messages.ERROR)
            return None
        return redirect("jobs:detail", pk=job.pk)

    action.__name__ = f"export_{dataset}_xlsx"
    action.short_description = label  # type: ignore[attr-defined]
    return action


for _model, _dataset in ((Protocol, "protocols"), (WorkOrder, "workorders")):
    if admin.site.is_registered(_model):
        _model_admin = admin.site.get_model_admin(_model)
        _model_admin.actions = [
            *(_model_admin.actions or []),
            _export_selection(_dataset, _("Exportar la selección a Excel (XLSX)")),
        ]
