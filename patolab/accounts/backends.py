"""Authentication backends."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import User
from .selectors import user_get_by_id


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every request-bound login (web, admin,
    API token). Calls without a request (management commands, internal checks)
    have no client to throttle and pass through to the next backend."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class UserBackend(ModelBackend):
    """Django's ModelBackend (username and password, permissions) whose
    per-request read of the session's user is a prepared statement: loading
    the user is on every request, and compiling its query cost more than the
    rest of serving a cached PDF (patolab.core.prepared)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = super().authenticate(request, username, password, **kwargs)
        if user is None and username is not None and password is not None:
            # A wrong password ends here: the legacy ModelBackend listed after
            # this one (for older sessions) must not hash the password again.
            raise PermissionDenied
        return user  # type: ignore[return-value]

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = user_get_by_id(pk=pk)
        return user if user is not None and self.user_can_authenticate(user) else None
