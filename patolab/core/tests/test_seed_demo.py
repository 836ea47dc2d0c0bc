from __future__ import annotations

from django.core.management import call_command
from django.test import Client

from patolab.accounts.models import Role, User


def test_seed_demo_is_idempotent_and_creates_every_role(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = User.objects.count()
    call_command("seed_demo")
    assert User.objects.count() == counts
    roles = dict(User.objects.values_list("username", "role"))
    assert roles["admin"] == Role.ADMIN
    assert roles["recepcion"] == Role.LAB_STAFF
    assert roles["patologo"] == Role.HISTOPATHOLOGIST
    assert roles["veterinario"] == Role.VETERINARIAN
    assert roles["veterinario2"] == Role.VETERINARIAN
    client = Client()
    assert client.login(username="veterinario", password="patolab-demo")
    home = client.get("/")
    assert home.status_code == 200
    assert "Hola" in home.content.decode()

    # The statistics page has stored days to draw on the first `make run`.
    from patolab.stats.models import DailyStatistics

    stored = DailyStatistics.objects.order_by("date")
    assert stored.count() >= 28
    assert sum(row.figures["protocols_received"] for row in stored) > 0


def test_seed_demo_refuses_without_debug(db, settings):
    import pytest
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.filter(username="admin").exists()


def test_admin_role_can_use_the_django_admin_without_being_superuser(admin, login):
    assert not admin.is_superuser
    client = login(admin)
    assert client.get("/admin/protocols/protocol/").status_code == 200
    assert client.get("/admin/reports/report/").status_code == 200
    assert client.get("/admin/jobs/job/").status_code == 200
