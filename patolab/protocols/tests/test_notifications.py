"""The protocol services queue the right e-mails (rendering and delivery are
the notifications app's job; here we check which EmailLog rows appear)."""

from __future__ import annotations

import pytest

from patolab.notifications.models import EmailLog
from patolab.protocols.services import protocol_receive, protocol_reject

from .factories import make_protocol

pytestmark = pytest.mark.django_db


def kinds(protocol):
    return sorted(
        EmailLog.objects.filter(protocol=protocol).values_list("kind", flat=True)
    )


def test_submission_queues_confirmation_on_commit(
    vet_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        protocol = make_protocol(vet_owner, notify=True)
    assert kinds(protocol) == ["submitted"]
    # The e-mail's delivery and the submission slip's job, both after commit.
    assert len(callbacks) == 2


def test_submission_confirmation_respects_preference(vet_owner):
    vet = vet_owner.veterinarian
    vet.notify_submission = False
    vet.save()
    protocol = make_protocol(vet_owner, notify=True)
    assert kinds(protocol) == []


def test_reception_queues_received_and_discrepancy_when_count_differs(
    vet_owner, technician
):
    same = make_protocol(vet_owner)
    protocol_receive(
        protocol=same, received_by=technician, sample_condition="optimal", containers=2
    )
    assert kinds(same) == ["received"]
    differs = make_protocol(vet_owner)
    protocol_receive(
        protocol=differs,
        received_by=technician,
        sample_condition="optimal",
        containers=1,
        discrepancies="Falta un frasco",
    )
    assert kinds(differs) == ["discrepancies", "received"]
    log = EmailLog.objects.get(protocol=differs, kind="received")
    assert log.recipient == "vet_owner@vet.example"


def test_failed_reception_queues_no_email(vet_owner, technician):
    protocol = make_protocol(vet_owner)
    with pytest.raises(Exception):  # noqa: B017 - any refusal
        protocol_receive(
            protocol=protocol,
            received_by=technician,
            sample_condition="optimal",
            containers=0,
        )
    assert kinds(protocol) == []


def test_rejection_queues_rejection_email(vet_owner, technician):
    protocol = make_protocol(vet_owner)
    protocol_reject(protocol=protocol, rejected_by=technician, reason="Frasco roto")
    assert kinds(protocol) == ["rejected"]
