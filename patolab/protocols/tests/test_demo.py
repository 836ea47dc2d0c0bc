from __future__ import annotations

import io

import pytest

from patolab.accounts import demo as accounts_demo
from patolab.notifications.models import EmailLog
from patolab.protocols import demo
from patolab.protocols.models import Protocol, ProtocolStatus

pytestmark = pytest.mark.django_db


def test_demo_seed_covers_every_status_sends_no_email_and_is_idempotent():
    accounts_demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    assert 190 <= Protocol.objects.count() <= 210
    present = set(Protocol.objects.values_list("status", flat=True))
    assert present == set(ProtocolStatus.values)
    assert set(Protocol.objects.values_list("analysis_type", flat=True)) == {
        "cytology",
        "histopathology",
    }
    assert not EmailLog.objects.exists()
    # Every non-draft protocol has a history ending in its current status.
    for protocol in Protocol.objects.exclude(status=ProtocolStatus.DRAFT):
        assert protocol.history.order_by("changed_at", "id").last().to_status == (
            protocol.status
        )
    count = Protocol.objects.count()
    demo.seed(io.StringIO())
    assert Protocol.objects.count() == count
