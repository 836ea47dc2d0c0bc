"""Reads of users that run on every request: the session's user and the
bearer token's user, as prepared statements (`patolab.core.prepared`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from patolab.core.prepared import prepared_instance

from .models import ApiToken, User


def user_get_by_id(*, pk: int) -> User | None:
    """The user with id `pk`, or None: the session's user on every request,
    so one prepared statement, not a compiled query."""
    return prepared_instance(
        ("accounts.user",),
        lambda marks: User._default_manager.filter(pk=marks["pk"]).order_by(),
        pk=pk,
    )


def api_token_get(*, key_hash: str, now: datetime) -> tuple[int, Any, User] | None:
    """(token id, last used, user) of a live token of an active user with
    this hash, or None: every API request, so one prepared statement."""
    token = prepared_instance(
        ("accounts.api_token",),
        lambda marks: ApiToken.objects.select_related("user")
        .filter(key_hash=marks["key_hash"], expires_at__gt=marks["now"])
        .filter(user__is_active=True)
        .order_by(),
        key_hash=key_hash,
        now=now,
    )
    if token is None:
        return None
    return token.pk, token.last_used_at, token.user
