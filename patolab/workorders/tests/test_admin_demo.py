from __future__ import annotations

import io

import pytest
from django.urls import reverse

from ..demo import seed
from ..models import PricingItem, WorkOrder
from ..pricing import pricing_for_analysis
from ..services import workorder_create
from .factories import make_protocol


def test_demo_seeds_the_catalog_even_without_protocols(db):
    out = io.StringIO()
    seed(out)
    seed(out)  # idempotent
    assert PricingItem.objects.filter(code="HP-01").count() == 1
    assert pricing_for_analysis("histopathology").code == "HP-01"
    assert pricing_for_analysis("cytology").code == "CIT-01"
    assert WorkOrder.objects.count() == 0


def test_demo_bills_received_protocols(db, vet_owner, technician):
    for _ in range(4):
        make_protocol(vet_owner)
    seed(io.StringIO())
    assert WorkOrder.objects.count() >= 1
    assert all(wo.total > 0 for wo in WorkOrder.objects.all())


@pytest.mark.usefixtures("catalog")
def test_admin_pages_open(login, admin, vet_owner):
    wo = workorder_create(
        veterinarian=vet_owner.veterinarian,
        protocols=[make_protocol(vet_owner)],
        tax_condition="consumidor_final",
        created_by=None,
    )
    admin.is_staff = True
    admin.is_superuser = True
    admin.save()
    client = login(admin)
    for url in (
        reverse("admin:workorders_pricingitem_changelist") + "?q=HP",
        reverse("admin:workorders_workorder_changelist") + "?status=draft",
        reverse("admin:workorders_workorder_change", args=[wo.pk]),
    ):
        assert client.get(url).status_code == 200, url
