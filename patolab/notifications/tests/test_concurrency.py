"""Two requests queueing the same e-mail at the same time still make one row
(the unique idempotency key, not only the `if`, decides)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from patolab.notifications import emails
from patolab.notifications.models import EmailLog
from patolab.notifications.tests.factories import make_received_protocol


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_with_the_same_key_create_one_email(vet_owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions")
    protocol = make_received_protocol(vet_owner)
    barrier = threading.Barrier(6)
    results: list[int] = []
    errors: list[BaseException] = []

    def queue() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                log = emails.protocol_discrepancies(protocol=protocol)
                results.append(log.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=queue) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 6
    assert len(set(results)) == 1
    assert EmailLog.objects.count() == 1
