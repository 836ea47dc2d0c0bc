"""insert_unless_conflict: one INSERT that a unique constraint refuses quietly."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from patolab.core.db import insert_unless_conflict
from patolab.notifications.models import EmailLog

pytestmark = pytest.mark.django_db


def email(key: str, subject: str = "Hola") -> EmailLog:
    return EmailLog(
        kind="received",
        idempotency_key=key,
        recipient="vet@x.example",
        subject=subject,
        body_text="texto",
    )


def test_inserts_sets_the_auto_key_and_refuses_a_duplicate_quietly():
    first = email("k1")
    with CaptureQueriesContext(connection) as queries:
        assert insert_unless_conflict(first) is True
    assert len(queries) == 1  # no savepoint, no SELECT first
    assert first.pk is not None
    assert not first._state.adding
    assert EmailLog.objects.get(pk=first.pk).created_at == first.created_at

    with transaction.atomic():
        duplicate = email("k1", subject="Otro")
        assert insert_unless_conflict(duplicate) is False
        assert duplicate.pk is None
        # The caller's transaction is still usable after the refused INSERT.
        assert EmailLog.objects.filter(idempotency_key="k1").count() == 1
    assert EmailLog.objects.get(idempotency_key="k1").subject == "Hola"
