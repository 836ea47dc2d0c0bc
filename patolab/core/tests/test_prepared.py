"""Prepared reads get the same connection care as Django's own cursors."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from patolab.accounts.models import User
from patolab.core.prepared import prepared_row


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_a_prepared_read_first_in_a_request_replaces_a_dropped_connection(
    transactional_db, admin
):
    """With CONN_HEALTH_CHECKS a request's first query replaces a persistent
    connection the server dropped (a restart, a failover). A prepared read is
    often that first query (the bearer token's user)."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    # A new request begins (what close_if_unusable_or_obsolete sets up).
    connection.health_check_enabled = True
    connection.health_check_done = False
    row = prepared_row(
        "test.prepared.username",
        lambda marks: User.objects.filter(pk=marks["pk"]).values("username"),
        pk=admin.pk,
    )
    assert row == {"username": admin.username}
    assert connection.connection.info.backend_pid != pid


def test_a_prepared_update_changes_only_the_row_its_values_select(db, admin):
    """Compiled once with placeholders, run with each call's own id."""
    from django.db.models import Value
    from django.db.models.functions import Concat

    from patolab.core.prepared import prepared_update

    other = User.objects.create_user(username="otro", password="x-12345678")

    def build(marks):
        return (
            User.objects.filter(pk=marks["pk"], is_active=True),
            {"first_name": Concat("username", Value("!"))},
        )

    assert prepared_update("test.prepared.update", build, pk=admin.pk) == 1
    assert prepared_update("test.prepared.update", build, pk=other.pk) == 1
    assert prepared_update("test.prepared.update", build, pk=-1) == 0
    User.objects.filter(pk=other.pk).update(is_active=False)
    assert prepared_update("test.prepared.update", build, pk=other.pk) == 0
    admin.refresh_from_db()
    other.refresh_from_db()
    assert admin.first_name == f"{admin.username}!"
    assert other.first_name == "otro!"
