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
