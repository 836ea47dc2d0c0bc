"""One turnaround rule everywhere: 7 days for histopathology, 3 for cytology,
from reception until the report is sent.

Why this test exists: the rule used to be coded three ways (the staff list, the
pathologists' queue and its dashboard panel), and a histopathology protocol
received 7.5 days ago was overdue in one list and not in another (whole days
were compared there). Every list, dashboard count, export row and daily
statistic must agree, on both sides of the target.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patolab.accounts.models import User
from patolab.exports.datasets import dataset_columns, dataset_rows
from patolab.protocols.models import Protocol
from patolab.protocols.selectors import protocol_list_for, protocol_overdue_q
from patolab.protocols.tests.factories import make_received
from patolab.stats.selectors import daily_statistics_compute

pytestmark = pytest.mark.django_db

# (analysis type, days since reception, overdue?)
CASES = [
    ("histopathology", 7.5, True),
    ("histopathology", 6.5, False),
    ("cytology", 3.5, True),
    ("cytology", 2.5, False),
]


@pytest.fixture
def protocols(vet_owner: User, technician: User) -> dict[str, bool]:
    """One received protocol per case, keyed by its number: overdue or not."""
    now = timezone.now()
    expected: dict[str, bool] = {}
    for kind, days, overdue in CASES:
        protocol = make_received(
            vet_owner, technician, kind=kind, animal_name=f"{kind} {days}"
        )
        Protocol.objects.filter(pk=protocol.pk).update(
            received_at=now - timedelta(days=days)
        )
        expected[protocol.protocol_number or ""] = overdue
    return expected


def overdue_numbers(expected: dict[str, bool]) -> set[str]:
    return {number for number, overdue in expected.items() if overdue}


def test_the_staff_protocol_list_flags_and_filters_by_the_rule(
    protocols: dict[str, bool], technician: User, login: Callable[[User], Client]
) -> None:
    client = login(technician)
    rows = client.get(reverse("protocols:protocol-list")).context["rows"]
    flagged = {row.protocol.protocol_number for row in rows if row.overdue}
    assert flagged == overdue_numbers(protocols)
    filtered = client.get(reverse("protocols:protocol-list"), {"overdue": "on"})
    listed = {row.protocol.protocol_number for row in filtered.context["rows"]}
    assert listed == overdue_numbers(protocols)
    in_queryset = protocol_list_for(user=technician, filters={"overdue": True})
    assert {p.protocol_number for p in in_queryset} == overdue_numbers(protocols)


def test_the_pathologists_queue_flags_by_the_rule(
    protocols: dict[str, bool], pathologist: User, login: Callable[[User], Client]
) -> None:
    items = login(pathologist).get(reverse("reports:queue")).context["items"]
    assert {item.protocol.protocol_number for item in items} == set(protocols)
    flagged = {item.protocol.protocol_number for item in items if item.overdue}
    assert flagged == overdue_numbers(protocols)


def test_dashboard_counts_follow_the_rule(
    protocols: dict[str, bool],
    technician: User,
    pathologist: User,
    login: Callable[[User], Client],
) -> None:
    assert Protocol.objects.filter(protocol_overdue_q()).count() == 2
    staff = login(technician).get("/").content.decode()
    assert "2 protocolos atrasados" in staff
    pathology = login(pathologist).get("/").content.decode()
    assert "2 atrasados" in pathology


def test_the_protocol_export_marks_overdue_rows_by_the_rule(
    protocols: dict[str, bool], admin: User
) -> None:
    headers = [str(column.header) for column in dataset_columns("protocols")]
    number_at = headers.index("Número")
    overdue_at = headers.index("Vencido")
    _total, rows = dataset_rows(dataset="protocols", user=admin, filters={}, ids=None)
    marked = {row[number_at]: row[overdue_at] == "Sí" for row in rows}
    assert marked == protocols


def test_the_daily_statistics_count_overdue_by_the_rule(
    protocols: dict[str, bool],
) -> None:
    figures: dict[str, Any] = daily_statistics_compute(day=timezone.localdate())
    assert figures["overdue"] == 2
