"""Why this test exists: protocol numbers must be gap-free and unique even when
many receptions happen at the same moment (DESIGN section 3). Only a real
PostgreSQL with real concurrent connections can prove the row lock works."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from patolab.core.errors import Conflict
from patolab.protocols.models import Counter, Protocol, Reception
from patolab.protocols.services import protocol_receive

from .factories import make_protocol

N = 50


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks"
)
def test_fifty_parallel_receptions_get_fifty_distinct_consecutive_numbers(
    transactional_db, vet_owner, technician
):
    protocols = [make_protocol(vet_owner) for _ in range(N)]
    barrier = threading.Barrier(N)
    errors: list[BaseException] = []

    def receive(protocol_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            protocol_receive(
                protocol=Protocol.objects.get(pk=protocol_id),
                received_by=technician,
                sample_condition="optimal",
                containers=2,
                notify=False,
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=receive, args=(p.pk,)) for p in protocols]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    numbers = list(
        Protocol.objects.exclude(protocol_number=None).values_list(
            "protocol_number", flat=True
        )
    )
    yy = timezone.localdate().year % 100
    assert sorted(numbers) == [f"HP {yy:02d}/{i:03d}" for i in range(1, N + 1)]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks"
)
def test_two_simultaneous_receptions_of_one_protocol_number_it_once(
    transactional_db, vet_owner, technician
):
    protocol = make_protocol(vet_owner)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def receive() -> None:
        try:
            barrier.wait(timeout=30)
            protocol_receive(
                protocol=Protocol.objects.get(pk=protocol.pk),
                received_by=technician,
                sample_condition="optimal",
                containers=2,
                notify=False,
            )
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["already_received", "ok"]
    assert Reception.objects.filter(protocol=protocol).count() == 1
    assert Counter.objects.get(key__startswith="protocol:HP:").value == 1
