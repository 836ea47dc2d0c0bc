"""Bulk status change runs in a real Celery worker; one bad item never blocks the rest."""

from __future__ import annotations

import pytest

from patolab.jobs.models import Job
from patolab.protocols.models import Protocol, ProtocolStatus
from patolab.protocols.tests.factories import make_protocol, make_received

pytestmark = pytest.mark.integration


def test_bulk_status_job_succeeds_per_item_and_reports_failures(
    celery_worker, api, admin, vet_owner, technician, wait
):
    ok1 = make_received(vet_owner, technician)
    ok2 = make_received(vet_owner, technician, kind="cytology")
    still_submitted = make_protocol(vet_owner)  # received -> processing is refused
    missing = 987654

    response = api(admin).post(
        "/api/v1/protocols/bulk-status",
        {
            "protocol_ids": [ok1.pk, still_submitted.pk, missing, ok2.pk],
            "status": "processing",
            "note": "Lote del día",
        },
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]

    job = wait(
        lambda: Job.objects.filter(
            pk=job_id, state__in=["succeeded", "failed"]
        ).first(),
        timeout=60,
    )
    assert job.state == "succeeded", job.error
    assert job.queue == "bulk"
    result = job.result
    assert (result["succeeded"], result["failed"]) == (2, 2)
    by_id = {item["id"]: item for item in result["items"]}
    assert by_id[ok1.pk]["ok"] is True
    assert by_id[ok1.pk]["error"] is None
    assert by_id[ok1.pk]["code"] == ok1.protocol_number
    assert by_id[ok1.pk]["detail"] == "Pasó a «En procesamiento»."
    assert by_id[ok2.pk]["ok"] is True
    assert by_id[still_submitted.pk]["ok"] is False
    assert "No se puede pasar" in by_id[still_submitted.pk]["error"]
    assert by_id[missing]["error"] == "El protocolo no existe."
    assert job.progress_current == job.progress_total == 4

    statuses = dict(Protocol.objects.values_list("pk", "status"))
    assert statuses[ok1.pk] == statuses[ok2.pk] == ProtocolStatus.PROCESSING
    assert statuses[still_submitted.pk] == ProtocolStatus.SUBMITTED
    assert Protocol.objects.get(pk=ok1.pk).history.last().note == "Lote del día"

    body = api(admin).get(f"/api/v1/jobs/{job_id}").json()
    assert body["result"]["succeeded"] == 2
