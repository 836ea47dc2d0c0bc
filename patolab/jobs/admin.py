from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from .admin_actions import BulkJobsBannerMixin, bulk_action_start
from .models import Job, WorkerPresence
from .registry import kind_names, kind_title
from .services import jobs_retry_many_start

if TYPE_CHECKING:
    from patolab.accounts.models import User

    # ModelAdmin is generic only in django-stubs; at runtime it takes no arguments.
    JobModelAdmin = admin.ModelAdmin[Job]
    WorkerPresenceModelAdmin = admin.ModelAdmin[WorkerPresence]
else:
    JobModelAdmin = WorkerPresenceModelAdmin = admin.ModelAdmin


class KindFilter(admin.SimpleListFilter):
    """Filter by kind, listed by the kinds' Spanish titles."""

    title = _("tipo")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return sorted(
            ((name, kind_title(name)) for name in kind_names()), key=lambda kv: kv[1]
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        value = self.value()
        return queryset.filter(kind=value) if value else queryset


@admin.register(Job)
class JobAdmin(BulkJobsBannerMixin, JobModelAdmin):  # type: ignore[misc]  # stubs type the template loosely
    list_display = (
        "title",
        "state",
        "progress_display",
        "attempts",
        "requested_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("state", KindFilter, "queue")
    search_fields = ("id", "kind", "target", "error")
    list_select_related = ("requested_by",)
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["retry_jobs"]

    @admin.display(description=_("trabajo"), ordering="kind")
    def title(self, obj: Job) -> str:
        return kind_title(obj.kind)

    @admin.display(description=_("progreso"))
    def progress_display(self, obj: Job) -> str:
        if not obj.progress_total:
            return "—"
        return f"{obj.progress_current}/{obj.progress_total} ({obj.percent} %)"

    @admin.action(description=_("Reintentar los trabajos fallidos seleccionados"))
    def retry_jobs(
        self, request: HttpRequest, queryset: QuerySet[Job]
    ) -> HttpResponse | None:
        # The admin site only lets active staff users in, so never AnonymousUser.
        user = cast("User", request.user)
        ids = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        return bulk_action_start(
            self, request, lambda: jobs_retry_many_start(job_ids=ids, user=user)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The Job table is the durable record of background work.
        return False


@admin.register(WorkerPresence)
class WorkerPresenceAdmin(WorkerPresenceModelAdmin):
    list_display = ("hostname", "last_seen")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
