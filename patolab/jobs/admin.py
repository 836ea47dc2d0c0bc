from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from patolab.core.errors import DomainError

from .models import Job, WorkerPresence
from .services import job_retry

if TYPE_CHECKING:
    from patolab.accounts.models import User

    # ModelAdmin is generic only in django-stubs; at runtime it takes no arguments.
    JobModelAdmin = admin.ModelAdmin[Job]
    WorkerPresenceModelAdmin = admin.ModelAdmin[WorkerPresence]
else:
    JobModelAdmin = WorkerPresenceModelAdmin = admin.ModelAdmin


@admin.register(Job)
class JobAdmin(JobModelAdmin):
    list_display = (
        "id",
        "kind",
        "state",
        "progress_display",
        "attempts",
        "requested_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("state", "kind", "queue")
    search_fields = ("id", "kind", "target", "error")
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["retry_jobs"]

    @admin.display(description=_("progreso"))
    def progress_display(self, obj: Job) -> str:
        if not obj.progress_total:
            return "—"
        return f"{obj.progress_current}/{obj.progress_total} ({obj.percent} %)"

    @admin.action(description=_("Reintentar los trabajos fallidos seleccionados"))
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        # The admin site only lets active staff users in, so never AnonymousUser.
        user = cast("User", request.user)
        done = 0
        for job in queryset:
            try:
                job_retry(job=job, user=user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{job.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%(n)d trabajos reintentados.") % {"n": done})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(WorkerPresence)
class WorkerPresenceAdmin(WorkerPresenceModelAdmin):
    list_display = ("hostname", "last_seen")
