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


def test_a_prepared_instance_reads_back_what_the_orm_gives(db, vet_owner, admin):
    """select_related objects, annotations and converted field values (dates,
    instants, booleans, UUIDs) are those of the ORM's own read, for each
    call's own id."""
    from django.db.models import Count

    from patolab.core.prepared import prepared_instance
    from patolab.notifications.tests.factories import make_received_protocol
    from patolab.protocols.models import Protocol, ProtocolStatusHistory

    protocols = [make_received_protocol(vet_owner) for _ in range(2)]
    for to_status in ("received", "processing"):
        ProtocolStatusHistory.objects.create(
            protocol=protocols[0], from_status="submitted", to_status=to_status
        )

    def queryset(pk):
        return (
            Protocol.objects.select_related("veterinarian", "veterinarian__user")
            .annotate(changes=Count("history"))
            .filter(pk=pk)
        )

    for protocol, changes in zip(protocols, (2, 0), strict=True):
        got = prepared_instance(
            "test.prepared.instance",
            lambda marks: queryset(marks["pk"]),
            pk=protocol.pk,
        )
        expected = queryset(protocol.pk).get()
        assert got is not None
        assert got.pk == protocol.pk
        for field in Protocol._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(expected, field.attname)
        assert got.changes == expected.changes == changes
        assert Protocol.veterinarian.is_cached(got)
        assert got.veterinarian.user.username == expected.veterinarian.user.username
    assert (
        prepared_instance(
            "test.prepared.instance", lambda marks: queryset(marks["pk"]), pk=-1
        )
        is None
    )
