"""Every page of each role, in headless Chromium at desktop and phone size, on the
demo lab: axe-core finds no serious or critical WCAG 2.1 A/AA violation, and no
veterinarian's page scrolls sideways at 390 px. Screenshots of every page go to
test-output/e2e/a11y-*.png."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.management import call_command

from patolab.accounts.models import User
from patolab.jobs.models import Job
from patolab.protocols.models import Protocol, ProtocolStatus
from patolab.reports.models import Report
from patolab.workorders.models import WorkOrder
from tests.e2e.helpers import (
    SIZES,
    axe_violations,
    describe,
    horizontal_overflow,
    log_in,
    overflowing_elements,
    shot,
)

pytestmark = pytest.mark.e2e
DEMO_PASSWORD = "patolab-demo"


@pytest.fixture
def demo_lab(transactional_db: None, settings: Any) -> None:
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False


def _first(qs: Any) -> Any:
    obj = qs.order_by("pk").first()
    assert obj is not None, f"the demo lab has no {qs.model.__name__}"
    return obj


def pages_for(username: str) -> list[str]:
    """The pages a user of this role reaches from the navigation and lists."""
    user = User.objects.get(username=username)
    common = ["/", "/protocolos/", "/informes/lista/", "/trabajos/", "/cuentas/perfil/"]
    if user.is_veterinarian:
        mine = Protocol.objects.filter(veterinarian__user=user)
        pages = [
            *common,
            "/protocolos/nuevo/histopatologia/",
            "/protocolos/nuevo/citologia/",
            f"/protocolos/{_first(mine).pk}/",
            "/ordenes/",
            "/cuentas/preferencias/",
        ]
        sent = mine.filter(status=ProtocolStatus.REPORT_SENT).first()
        if sent is not None:
            pages.append(f"/protocolos/{sent.pk}/")
            report = Report.objects.filter(protocol=sent).first()
            if report is not None:
                pages.append(f"/informes/{report.pk}/")
        order = WorkOrder.objects.filter(veterinarian__user=user).first()
        if order is not None:
            pages.append(f"/ordenes/{order.pk}/")
        return pages
    if user.is_lab_staff:
        submitted = _first(Protocol.objects.filter(status=ProtocolStatus.SUBMITTED))
        received = _first(Protocol.objects.exclude(protocol_number=None))
        return [
            *common,
            "/protocolos/recepcion/",
            "/protocolos/recepcion/?code=TMP-XX-00000000-000",
            "/protocolos/recepcion/lote/",
            "/protocolos/recepcion/pendientes/",
            "/protocolos/recepcion/historial/",
            f"/protocolos/{submitted.pk}/recibir/",
            f"/protocolos/{submitted.pk}/rechazar/",
            f"/protocolos/{received.pk}/",
            "/etiquetas/",
            "/ordenes/",
            "/ordenes/nueva/",
            f"/ordenes/{_first(WorkOrder.objects).pk}/",
            f"/ordenes/{_first(WorkOrder.objects).pk}/editar/",
        ]
    if user.is_histopathologist:
        draft = _first(Report.objects.filter(status="draft"))
        return [
            *common,
            "/informes/",
            f"/informes/{draft.pk}/",
            f"/informes/{draft.pk}/editar/",
            f"/informes/{_first(Report.objects.filter(status='sent')).pk}/",
        ]
    pages = [*common, "/trabajos/monitor/", "/ordenes/", "/estadisticas/"]
    job = Job.objects.order_by("-created_at").first()
    if job is not None:
        pages.append(f"/trabajos/{job.pk}/")
    return pages


ANONYMOUS_PAGES = [
    "/cuentas/login/",
    "/cuentas/registro/",
    "/cuentas/contrasena/olvide/",
    "/cuentas/verificar/reenviar/",
    f"/verify/{uuid.UUID(int=0)}/",
]


def _check(page: Any, base: str, path: str, label: str, *, vet: bool) -> list[str]:
    problems = []
    for size_name, size in SIZES.items():
        page.set_viewport_size(size)
        response = page.goto(f"{base}{path}")
        assert response is not None
        if response.status >= 500:
            problems.append(f"{path} [{size_name}]: HTTP {response.status}")
            continue
        shot(page, f"a11y-{label}-{size_name}-{path}")
        found = axe_violations(page)
        if found:
            problems.append(f"{path} [{size_name}]:\n{describe(found)}")
        if vet and size_name == "phone" and horizontal_overflow(page) > 0:
            problems.append(
                f"{path} [phone]: {horizontal_overflow(page)} px of horizontal "
                f"scrolling; {overflowing_elements(page)}"
            )
    return problems


@pytest.mark.parametrize(
    "username", ["veterinario", "recepcion", "patologo", "admin", None]
)
def test_every_page_passes_axe_and_fits_a_phone(
    username, demo_lab, browser_page, live_server
):
    page = browser_page
    base = live_server.url
    if username is None:
        paths, label = ANONYMOUS_PAGES, "anonimo"
    else:
        paths, label = pages_for(username), username
        log_in(page, base, username, DEMO_PASSWORD)
    problems: list[str] = []
    for path in paths:
        problems += _check(
            page, base, path, label, vet=username in ("veterinario", None)
        )
    assert not problems, "\n\n".join(problems)
