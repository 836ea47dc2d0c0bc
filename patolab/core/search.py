"""Accent- and case-insensitive text search, the same on PostgreSQL and SQLite.

`"nandu"` finds `"Ñandú"` and `"ÑANDÚ"`: the column goes through `UNACCENT()`
and the search term is folded the same way in Python. On PostgreSQL `UNACCENT`
is the `unaccent` extension (created by `core/migrations/0001_unaccent.py`); on
SQLite, which has no such function, every new connection gets a deterministic
Python `UNACCENT` (`install_sqlite_unaccent`), so one query serves both.
Matching stays `icontains` (a LIKE over the folded text), as before.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import CharField, Q, TextField, Transform


def fold(text: str) -> str:
    """Remove diacritics (ñ -> n, ú -> u, ü -> u); case is left to LIKE."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _sqlite_unaccent(value: Any) -> Any:
    return fold(value) if isinstance(value, str) else value


class Unaccent(Transform):
    """`field__unaccent__icontains=...` (the name django.contrib.postgres uses)."""

    lookup_name = "unaccent"
    function = "UNACCENT"
    bilateral = False


def register_unaccent() -> None:
    CharField.register_lookup(Unaccent)
    TextField.register_lookup(Unaccent)


def install_sqlite_unaccent(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: give SQLite an `UNACCENT()` function."""
    if connection.vendor == "sqlite" and connection.connection is not None:
        connection.connection.create_function(
            "UNACCENT", 1, _sqlite_unaccent, deterministic=True
        )


def text_search(fields: Iterable[str], term: str) -> Q:
    """Q matching `term` inside any of `fields`, ignoring accents and case."""
    folded = fold(term.strip())
    return reduce(
        or_, (Q(**{f"{name}__unaccent__icontains": folded}) for name in fields)
    )
