"""Export requests: validation (400, nothing started), roles, deduplication."""

from __future__ import annotations

import pytest

from patolab.core.errors import NotAllowed, ValidationFailed
from patolab.exports.services import export_request
from patolab.jobs.models import Job


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "dataset": "veterinarios"}, "dataset"),
        ({"format": "csv", "separator": "|"}, "separator"),
        ({"format": "csv", "filters": {"estado": "received"}}, "filters.estado"),
        ({"format": "csv", "filters": {"status": "perdido"}}, "filters.status"),
        ({"format": "csv", "filters": {"received_from": "31/02/2026"}}, "filters.received_from"),
        ({"format": "csv", "filters": {"received_to": "2026-02-30"}}, "filters.received_to"),
        ({"format": "xlsx", "dataset": "workorders", "filters": {"created_from": "ayer"}}, "filters.created_from"),
        ({"format": "xlsx", "dataset": "workorders", "filters": {"received_from": "2026-01-01"}}, "filters.received_from"),
        ({"format": "xlsx", "dataset": "workorders", "filters": {"veterinarian_id": "x"}}, "filters.veterinarian_id"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_and_start_nothing(admin, kwargs, field):
    with pytest.raises(ValidationFailed) as info:
        export_request(user=admin, **kwargs)
    errors = info.value.errors
    # The offending key is named (aliases are reported under the form's name).
    assert field in errors or field.replace("created_", "date_") in errors
    assert not Job.objects.exists()


def test_valid_filters_are_cleaned_and_the_same_request_joins_the_active_job(admin):
    first = export_request(
        user=admin,
        format="csv",
        filters={"status": "received", "received_from": "2026-01-01", "q": ""},
    )
    again = export_request(
        user=admin,
        format="csv",
        filters={"received_from": "2026-01-01", "status": "received"},
    )
    assert again.pk == first.pk
    assert first.kind == "exports.generate"
    assert first.queue == "bulk"
    assert first.params["filters"] == {
        "status": "received",
        "received_from": "2026-01-01",
    }
    other = export_request(user=admin, format="xlsx", filters={"status": "received"})
    assert other.pk != first.pk


def test_veterinarians_and_pathologists_cannot_export(vet_owner, pathologist):
    for user in (vet_owner, pathologist):
        with pytest.raises(NotAllowed):
            export_request(user=user, format="csv")


def test_api_answers_400_with_the_error_format_for_an_unknown_filter(api, admin):
    response = api(admin).post(
        "/api/v1/exports", {"format": "csv", "filters": {"estado": "received"}}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filters"
    assert body["errors"] == {"filters.estado": ["Filtro desconocido."]}
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"format": "ods"},
        {},
        {"format": "csv", "dataset": "users"},
        {"format": "csv", "filters": ["status"]},
        {"format": "csv", "filters": {"received_from": "2026-13-01"}},
    ],
)
def test_api_bad_payloads_are_400(api, admin, payload):
    response = api(admin).post("/api/v1/exports", payload)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Job.objects.exists()


def test_api_export_is_for_admins(api, technician, vet_owner):
    assert api(technician).post("/api/v1/exports", {"format": "csv"}).status_code == 403
    assert api(vet_owner).post("/api/v1/exports", {"format": "csv"}).status_code == 403
    assert api(None).post("/api/v1/exports", {"format": "csv"}).status_code == 401


def test_api_export_answers_202_with_the_job_and_location(api, admin):
    response = api(admin).post(
        "/api/v1/exports",
        {"format": "xlsx", "dataset": "workorders", "filters": {"status": "issued"}},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "exports.generate"
    assert response["Location"] == body["url"]


def test_every_filter_of_the_protocol_list_is_accepted_and_stored_as_json(
    admin, vet_owner
):
    vet = vet_owner.veterinarian
    job = export_request(
        user=admin,
        format="xlsx",
        filters={
            "veterinarian": str(vet.pk),
            "overdue": "on",
            "sort": "-date",
            "analysis_type": "cytology",
            "q": "Luna",
        },
    )
    assert job.params["filters"] == {
        "veterinarian": vet.pk,
        "overdue": True,
        "sort": "-date",
        "analysis_type": "cytology",
        "q": "Luna",
    }
    unticked = export_request(user=admin, format="csv", filters={"overdue": ""})
    assert unticked.params["filters"] == {}


def test_setup_periodic_tasks_declares_the_hourly_export_cleanup(db):
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("setup_periodic_tasks")
    task = PeriodicTask.objects.get(task="patolab.exports.cleanup")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (3600, "seconds")
