"""Work-order numbers stay gap-free and unique when created in parallel."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from ..models import WorkOrder
from ..services import workorder_create
from .factories import make_catalog, make_protocol

THREADS = 12


@pytest.mark.django_db(transaction=True)
def test_parallel_creations_get_distinct_consecutive_numbers(vet_owner):
    make_catalog()
    protocols = [make_protocol(vet_owner) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def create(protocol):
        try:
            barrier.wait()
            workorder_create(
                veterinarian=vet_owner.veterinarian,
                protocols=[protocol],
                tax_condition="consumidor_final",
                created_by=None,
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(p,)) for p in protocols]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    year = timezone.localdate().year
    numbers = sorted(WorkOrder.objects.values_list("number", flat=True))
    assert numbers == [f"OT-{year}-{n:04d}" for n in range(1, THREADS + 1)]


@pytest.mark.django_db(transaction=True)
def test_same_protocol_billed_twice_in_parallel_gives_one_order(vet_owner):
    make_catalog()
    protocol = make_protocol(vet_owner)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def create():
        try:
            barrier.wait()
            workorder_create(
                veterinarian=vet_owner.veterinarian,
                protocols=[protocol],
                tax_condition="consumidor_final",
                created_by=None,
            )
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(getattr(exc, "code", repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["protocol_already_billed"] * 3
    assert WorkOrder.objects.count() == 1
