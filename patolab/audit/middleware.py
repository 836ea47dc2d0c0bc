from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from .context import audit_context, via_for_path


def _request_actor(request: HttpRequest) -> Callable[[], Any]:
    def load() -> Any:
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None

    return load


class AuditContextMiddleware:
    """Attributes audit entries written during a request to its user, its
    client address and its entry point (web, API or admin)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_context(
            via=via_for_path(request.path),
            # The direct peer; a trusted proxy's X-Forwarded-For would need the
            # proxy configuration to be known here.
            remote_addr=request.META.get("REMOTE_ADDR") or None,
            actor_loader=_request_actor(request),
        ):
            return self.get_response(request)
