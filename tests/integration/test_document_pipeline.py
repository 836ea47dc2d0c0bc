"""The one document pipeline, for every document kind: a GET never serves a file
whose fingerprint is not the target's current one.

For labels, work orders and reports alike, with a real worker over the real
broker: once the file exists it is served (200, ETag = its SHA-256); after a
change to anything it prints, or a renderer version bump, the same GET answers
202 with the job (the API) or a page that follows it (the browser) and never the
old bytes; once the worker has made the new file, that one is served and its
stored fingerprint is the target's current one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from patolab.accounts.models import User
from patolab.core.documents import DocumentKind, document_kind_get
from patolab.jobs.models import ACTIVE_STATES, Job, JobState
from patolab.protocols.models import Protocol
from patolab.protocols.tests.factories import make_received
from patolab.reports.models import Report
from patolab.reports.services import (
    report_create,
    report_finalize_execute,
    report_request_finalize,
)
from patolab.workorders.models import WorkOrder
from patolab.workorders.services import workorder_create, workorder_update
from patolab.workorders.tests.factories import make_catalog

pytestmark = pytest.mark.integration


@dataclass
class Case:
    """One document kind under test: its target, who reads it, where, and how
    to change what it prints."""

    kind: DocumentKind[Any, Any]
    target: Any
    reader: User
    api_url: str
    page_url: str
    change: Callable[[], None]
    renderer_module: Any

    def fresh(self) -> Any:
        """The target as a request would load it (the kind's own selector)."""
        return self.kind.get_for(self.reader, str(self.target.pk))


def labels_case(vet: User, staff: User, pathologist: User) -> Case:
    from patolab.labels import render

    protocol = make_received(vet, staff, animal_name="Tobi")

    def change() -> None:
        Protocol.objects.filter(pk=protocol.pk).update(animal_name="Tobías")

    return Case(
        kind=document_kind_get("labels"),
        target=protocol,
        reader=staff,
        api_url=f"/api/v1/protocols/{protocol.pk}/label.pdf",
        page_url=f"/etiquetas/protocolo/{protocol.pk}/",
        change=change,
        renderer_module=render,
    )


def workorder_case(vet: User, staff: User, pathologist: User) -> Case:
    from patolab.workorders import pdf

    make_catalog()
    protocol = make_received(vet, staff)
    work_order = workorder_create(
        veterinarian=vet.veterinarian,
        protocols=[protocol],
        tax_condition="consumidor_final",
        created_by=staff,
    )

    def change() -> None:
        workorder_update(
            work_order=WorkOrder.objects.get(pk=work_order.pk),
            notes="Abona en dos cuotas.",
            user=staff,
        )

    return Case(
        kind=document_kind_get("workorder"),
        target=work_order,
        reader=vet,
        api_url=f"/api/v1/workorders/{work_order.pk}/pdf",
        page_url=f"/ordenes/{work_order.pk}/pdf/",
        change=change,
        renderer_module=pdf,
    )


def report_case(vet: User, staff: User, pathologist: User) -> Case:
    from patolab.reports import pdf

    protocol = make_received(vet, staff, animal_name="Luna")
    report = report_create(
        protocol=protocol,
        histopathologist=pathologist,
        diagnosis="Lipoma subcutáneo.",
    )
    with transaction.atomic():
        report_request_finalize(report=report, user=pathologist)
    # The finalization itself (render, store, e-mail) is proven elsewhere with
    # the worker; here it only sets up a finalized report with its file.
    report_finalize_execute(report_id=report.pk, user_id=pathologist.pk)

    def change() -> None:
        Protocol.objects.filter(pk=protocol.pk).update(animal_name="Luna Ñ.")

    return Case(
        kind=document_kind_get("report"),
        target=Report.objects.get(pk=report.pk),
        reader=vet,
        api_url=f"/api/v1/reports/{report.pk}/pdf",
        page_url=f"/informes/{report.pk}/pdf/",
        change=change,
        renderer_module=pdf,
    )


CASES = {"labels": labels_case, "workorder": workorder_case, "report": report_case}


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def served_when_ready(client: Any, url: str, wait: Callable[..., Any]) -> Any:
    """Ask like an API client until the document is served; every answer before
    that must be a 202 with a job (never a stale file)."""

    def ready() -> Any:
        response = client.get(url)
        if response.status_code == 202:
            assert response.json()["job"]["state"] in ("queued", "running")
            assert response["Retry-After"]
            return None
        assert response.status_code == 200, response.content
        return response

    return wait(ready, timeout=60, interval=0.1)


def assert_current(case: Case, response: Any) -> str:
    """The served bytes are the stored row whose fingerprint is current now."""
    data = body(response)
    digest = hashlib.sha256(data).hexdigest()
    assert response["ETag"] == f'"{digest}"'
    assert data.startswith(b"%PDF")
    target = case.fresh()
    stored = case.kind.stored(target, case.kind.fingerprint(target))
    assert stored is not None
    assert stored.sha256 == digest
    return digest


def assert_not_served(case: Case, client: Any, page: Client, stale: str) -> None:
    """Right after a change: the API answers 202 with the job making the new
    file, the browser gets a page following it; neither carries the old bytes."""
    response = client.get(case.api_url)
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"]["id"])
    assert job.kind == case.kind.job_kind
    assert not response.has_header("ETag")
    asked_again = client.get(case.api_url)
    if asked_again.status_code == 202:  # the worker may already be done
        assert asked_again.json()["job"]["id"] == str(job.pk)
    browser = page.get(case.page_url)
    if browser["Content-Type"] == "application/pdf":
        # Only possible once the worker finished: then it must be the new file.
        assert hashlib.sha256(body(browser)).hexdigest() != stale
    else:
        # The labels' pending page (200), the work order's detail page (302),
        # the report's pending page (202): HTML following the job.
        assert browser.status_code in (200, 202, 302)
        assert browser["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_get_serves_a_document_whose_fingerprint_is_not_current(
    name: str,
    celery_worker: Any,
    vet_owner: User,
    technician: User,
    pathologist: User,
    api: Any,
    login: Callable[[User], Client],
    wait: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CASES[name](vet_owner, technician, pathologist)
    client = api(case.reader)
    page = login(case.reader)

    first = assert_current(case, served_when_ready(client, case.api_url, wait))
    # Current: served again as is (304 on its ETag).
    again = client.client.get(
        case.api_url, headers={**client.headers, "If-None-Match": f'"{first}"'}
    )
    assert again.status_code == 304

    # 1. A change to printed data makes the stored file stale.
    case.change()
    assert_not_served(case, client, page, first)
    second = assert_current(case, served_when_ready(client, case.api_url, wait))
    assert second != first

    # 2. So does a new renderer version, even with the same data. A request
    # that lost the race with the job above may have started one more job
    # (job_start inserts again once the refused INSERT's job has finished);
    # let every job end first, so none stores a row under the patched version.
    wait(
        lambda: not Job.objects.filter(
            kind=case.kind.job_kind, state__in=ACTIVE_STATES
        ).exists(),
        timeout=60,
        interval=0.05,
    )
    monkeypatch.setattr(
        case.renderer_module,
        "RENDERER_VERSION",
        case.renderer_module.RENDERER_VERSION + "-next",
    )
    target = case.fresh()
    assert case.kind.stored(target, case.kind.fingerprint(target)) is None
    response = client.get(case.api_url)
    assert response.status_code == 202
    assert_current(case, served_when_ready(client, case.api_url, wait))
    assert not Job.objects.filter(state=JobState.FAILED).exists()
