"""Reads of users that run on every request: the session's user and the
bearer token's user, as prepared statements (`patolab.core.prepared`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from patolab.core.prepared import prepared_row

from .models import ApiToken, User

# Every column of a user, in the model's order (what `User.from_db` expects).
_USER_FIELDS = tuple(field.attname for field in User._meta.concrete_fields)


def _prepared() -> bool:
    # Rows come back without Django's field converters: only PostgreSQL's
    # driver already returns Python values for every column (SQLite does not).
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


def _user_from(row: dict[str, Any], prefix: str = "") -> User:
    return User.from_db(
        DEFAULT_DB_ALIAS,
        list(_USER_FIELDS),
        [row[prefix + name] for name in _USER_FIELDS],
    )


def user_get_by_id(*, pk: int) -> User | None:
    """The user with id `pk` (every column), or None: the session's user on
    every request, so it is one prepared statement, not a compiled query."""
    if not _prepared():
        return User._default_manager.filter(pk=pk).first()
    row = prepared_row(
        ("accounts.user",),
        lambda marks: User._default_manager.filter(pk=marks["pk"])
        .order_by()
        .values(*_USER_FIELDS),
        pk=pk,
    )
    return _user_from(row) if row is not None else None


def api_token_get(*, key_hash: str, now: datetime) -> tuple[int, Any, User] | None:
    """(token id, last used, user) of a live token of an active user with
    this hash, or None: every API request, so one prepared statement."""
    if not _prepared():
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=key_hash, expires_at__gt=now, user__is_active=True)
            .first()
        )
        return (token.pk, token.last_used_at, token.user) if token else None
    row = prepared_row(
        ("accounts.api_token",),
        lambda marks: ApiToken.objects.filter(
            key_hash=marks["key_hash"], expires_at__gt=marks["now"]
        )
        .filter(user__is_active=True)
        .order_by()
        .values("pk", "last_used_at", *(f"user__{name}" for name in _USER_FIELDS))[:1],
        key_hash=key_hash,
        now=now,
    )
    if row is None:
        return None
    return row["pk"], row["last_used_at"], _user_from(row, prefix="user__")
