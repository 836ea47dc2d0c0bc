"""Django-admin bulk actions as jobs (one job per action, never a loop in the
request), and the changelist banner of the admin's bulk jobs.

An action validates the selection through a service that writes one Job row
and sends the admin to the job's page (live progress, then per-item results in
Spanish). The request does a bounded amount of work whatever the selection
size: one query for the selected ids, one Job row. Only admins may start bulk
jobs; anyone else who reaches an action gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from patolab.core.errors import DomainError

from .models import Job
from .registry import kind_title
from .selectors import job_bulk_banner_for

BANNER_CHANGE_LIST_TEMPLATE = "admin/jobs/change_list_with_jobs.html"


def bulk_action_start(
    modeladmin: Any, request: HttpRequest, start: Callable[[], Job]
) -> HttpResponse | None:
    """Run `start()` (a service that validates and writes one Job) for an admin
    action and redirect to the job's page; a validation error is one message
    on the changelist. 403 for anyone but an admin."""
    if not getattr(request.user, "is_admin_role", False):
        raise PermissionDenied(
            _("Solo la administración puede iniciar acciones masivas.")
        )
    try:
        job = start()
    except DomainError as exc:
        modeladmin.message_user(request, exc.message, messages.ERROR)
        return None
    modeladmin.message_user(
        request,
        _("«%(title)s» quedó en marcha en segundo plano.")
        % {"title": kind_title(job.kind)},
        messages.INFO,
    )
    back = request.get_full_path()
    url = reverse("jobs:detail", kwargs={"pk": job.pk})
    return HttpResponseRedirect(f"{url}?{urlencode({'volver': back})}")


class BulkJobsBannerMixin:
    """Changelists with bulk actions show the admin's bulk jobs: progress while
    they run, then one summary line each with a link to the details."""

    change_list_template: ClassVar[str | None] = BANNER_CHANGE_LIST_TEMPLATE

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        context = {"bulk_jobs": job_bulk_banner_for(user=request.user)}
        context.update(extra_context or {})
        return super().changelist_view(request, context)  # type: ignore[misc]
