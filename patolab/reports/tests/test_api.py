from __future__ import annotations

import pytest

from patolab.jobs.models import Job
from patolab.protocols.tests.factories import make_protocol, make_received
from patolab.reports.models import ReportPdf, ReportStatus
from patolab.reports.services import (
    report_amend,
    report_finalize_execute,
    report_request_finalize,
)

pytestmark = pytest.mark.django_db


def finalize_now(report, user):
    report_request_finalize(report=report, user=user)
    report_finalize_execute(report_id=report.pk, user_id=user.pk)
    report.refresh_from_db()


def test_pathologist_creates_a_draft(api, pathologist, received_protocol):
    response = api(pathologist).post(
        "/api/v1/reports",
        {"protocol_id": received_protocol.pk, "diagnosis": "Lipoma."},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["version"] == 1
    assert body["protocol_id"] == received_protocol.pk
    assert body["pdf_sha256"] is None
    assert body["verification_url"].endswith(f"/verify/{body['verification_id']}/")


def test_create_for_unknown_protocol_names_the_field(api, pathologist):
    response = api(pathologist).post("/api/v1/reports", {"protocol_id": 999999})
    assert response.status_code == 400
    assert "protocol_id" in response.json()["errors"]


def test_create_without_protocol_id_is_400(api, pathologist):
    response = api(pathologist).post("/api/v1/reports", {"diagnosis": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_create_for_a_submitted_protocol_is_409(api, pathologist, vet_owner):
    protocol = make_protocol(vet_owner)
    response = api(pathologist).post("/api/v1/reports", {"protocol_id": protocol.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "protocol_not_reportable"


def test_a_veterinarian_cannot_create_reports(api, vet_owner, received_protocol):
    response = api(vet_owner).post(
        "/api/v1/reports", {"protocol_id": received_protocol.pk}
    )
    assert response.status_code == 403


def test_patch_edits_a_draft(api, pathologist, draft_report):
    response = api(pathologist).patch(
        f"/api/v1/reports/{draft_report.pk}", {"comments": "Nuevo comentario"}
    )
    assert response.status_code == 200
    assert response.json()["comments"] == "Nuevo comentario"
    assert response.json()["diagnosis"] == draft_report.diagnosis


def test_patch_after_finalize_is_409_and_changes_nothing(
    api, pathologist, draft_report
):
    finalize_now(draft_report, pathologist)
    response = api(pathologist).patch(
        f"/api/v1/reports/{draft_report.pk}", {"diagnosis": "Otro"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "report_not_editable"
    draft_report.refresh_from_db()
    assert draft_report.diagnosis.startswith("Mastocitoma")


def test_finalize_answers_202_with_the_same_job_twice(api, pathologist, draft_report):
    client = api(pathologist)
    first = client.post(f"/api/v1/reports/{draft_report.pk}/finalize")
    second = client.post(f"/api/v1/reports/{draft_report.pk}/finalize")
    assert first.status_code == 202
    assert second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert first["Location"] == f"/api/v1/jobs/{first.json()['id']}"
    assert client.get(f"/api/v1/reports/{draft_report.pk}").json()["status"] == (
        "finalizing"
    )


def test_finalize_a_finalized_report_is_409(api, pathologist, draft_report):
    finalize_now(draft_report, pathologist)
    response = api(pathologist).post(f"/api/v1/reports/{draft_report.pk}/finalize")
    assert response.status_code == 409
    assert response.json()["code"] == "report_finalized"


def test_finalize_without_diagnosis_is_400(api, pathologist, received_protocol):
    client = api(pathologist)
    report_id = client.post(
        "/api/v1/reports", {"protocol_id": received_protocol.pk}
    ).json()["id"]
    response = client.post(f"/api/v1/reports/{report_id}/finalize")
    assert response.status_code == 400
    assert "diagnosis" in response.json()["errors"]
    assert not Job.objects.filter(kind="report.finalize").exists()


def test_pdf_of_a_draft_is_409(api, pathologist, draft_report):
    response = api(pathologist).get(f"/api/v1/reports/{draft_report.pk}/pdf")
    assert response.status_code == 409


def test_pdf_while_finalizing_is_202_with_the_job(api, pathologist, draft_report):
    job = report_request_finalize(report=draft_report, user=pathologist)
    response = api(pathologist).get(f"/api/v1/reports/{draft_report.pk}/pdf")
    assert response.status_code == 202
    assert response.json()["job"]["id"] == str(job.pk)
    assert response["Retry-After"]
    assert Job.objects.filter(kind="report.finalize").count() == 1


def test_pdf_is_served_with_etag_and_304(api, pathologist, vet_owner, draft_report):
    finalize_now(draft_report, pathologist)
    client = api(vet_owner)
    response = client.get(f"/api/v1/reports/{draft_report.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["ETag"] == f'"{draft_report.pdf_sha256}"'
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.headers["If-None-Match"] = f'"{draft_report.pdf_sha256}"'
    again = client.get(f"/api/v1/reports/{draft_report.pk}/pdf")
    assert again.status_code == 304


def test_other_vet_gets_404_on_report_and_pdf(
    api, pathologist, vet_other, draft_report
):
    finalize_now(draft_report, pathologist)
    client = api(vet_other)
    assert client.get(f"/api/v1/reports/{draft_report.pk}").status_code == 404
    assert client.get(f"/api/v1/reports/{draft_report.pk}/pdf").status_code == 404
    assert client.get("/api/v1/reports").json()["count"] == 0


def test_owner_vet_does_not_see_drafts(api, vet_owner, draft_report):
    assert api(vet_owner).get(f"/api/v1/reports/{draft_report.pk}").status_code == 404


def test_owner_vet_sees_the_finalized_report(api, pathologist, vet_owner, draft_report):
    finalize_now(draft_report, pathologist)
    body = api(vet_owner).get(f"/api/v1/reports/{draft_report.pk}").json()
    assert body["status"] == "sent"
    assert body["pdf_sha256"] == draft_report.pdf_sha256
    assert body["finalized_at"]


def test_verify_is_public_and_says_current_then_superseded(
    api, pathologist, draft_report
):
    finalize_now(draft_report, pathologist)
    anonymous = api(None)
    url = f"/api/v1/verify/{draft_report.verification_id}"
    body = anonymous.get(url).json()
    assert body["current"] is True
    assert body["version"] == 1
    assert body["sha256"] == draft_report.pdf_sha256
    assert body["protocol_number"] == draft_report.protocol.protocol_number
    assert anonymous.get(url, sha256=draft_report.pdf_sha256).json()["match"] == (
        "current"
    )
    new = report_amend(report=draft_report, user=pathologist, reason="Corrección")
    finalize_now(new, pathologist)
    body = anonymous.get(url, sha256=draft_report.pdf_sha256).json()
    assert body["current"] is False
    assert body["superseded_by_version"] == 2
    assert body["match"] == "superseded"


def test_verify_of_unknown_or_draft_uuid_is_404(api, draft_report):
    anonymous = api(None)
    assert (
        anonymous.get(f"/api/v1/verify/{draft_report.verification_id}").status_code
        == 404
    )
    assert (
        anonymous.get("/api/v1/verify/00000000-0000-0000-0000-000000000000").status_code
        == 404
    )


def test_regenerate_is_admin_only_and_validates(api, admin, pathologist):
    assert (
        api(pathologist).post("/api/v1/reports/regenerate", {"all": True}).status_code
        == 403
    )
    bad = api(admin).post("/api/v1/reports/regenerate", {"report_ids": []})
    assert bad.status_code == 400
    assert "report_ids" in bad.json()["errors"]
    assert not Job.objects.filter(kind="reports.regenerate").exists()


def test_regenerate_all_answers_202_and_joins_the_active_job(api, admin):
    client = api(admin)
    first = client.post("/api/v1/reports/regenerate", {"all": True})
    second = client.post("/api/v1/reports/regenerate", {"all": True})
    assert first.status_code == 202
    assert first.json()["kind"] == "reports.regenerate"
    assert first.json()["id"] == second.json()["id"]


def test_pdf_during_a_regeneration_is_the_current_file(
    api, admin, pathologist, draft_report
):
    # A current file is served without asking for regeneration jobs: the
    # regeneration would store the same content (issue 9: off the serving path).
    finalize_now(draft_report, pathologist)
    api(admin).post("/api/v1/reports/regenerate", {"report_ids": [draft_report.pk]})
    draft_report.refresh_from_db()
    response = api(pathologist).get(f"/api/v1/reports/{draft_report.pk}/pdf")
    assert response.status_code == 200
    assert response["ETag"] == f'"{draft_report.pdf_sha256}"'
    assert ReportPdf.objects.count() == 1


def test_stale_pdf_during_a_regeneration_covering_it_is_202_with_that_job(
    api, admin, pathologist, draft_report, monkeypatch
):
    from patolab.reports import pdf

    finalize_now(draft_report, pathologist)
    job_id = (
        api(admin)
        .post("/api/v1/reports/regenerate", {"report_ids": [draft_report.pk]})
        .json()["id"]
    )
    monkeypatch.setattr(pdf, "RENDERER_VERSION", pdf.RENDERER_VERSION + "-next")
    response = api(pathologist).get(f"/api/v1/reports/{draft_report.pk}/pdf")
    assert response.status_code == 202
    assert response.json()["job"]["id"] == job_id
    assert not Job.objects.filter(kind="report.pdf").exists()
    assert ReportPdf.objects.count() == 1
    assert draft_report.status == ReportStatus.SENT


def test_anonymous_gets_401(api, draft_report):
    assert api(None).get(f"/api/v1/reports/{draft_report.pk}").status_code == 401


def test_received_protocol_without_report_has_no_report(
    api, pathologist, vet_owner, technician
):
    protocol = make_received(vet_owner, technician)
    assert (
        api(pathologist)
        .get("/api/v1/reports", q=protocol.protocol_number)
        .json()["count"]
        == 0
    )
