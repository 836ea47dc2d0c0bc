from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from patolab.jobs.models import Job
from patolab.protocols.tests.factories import make_received
from patolab.reports.models import Report, ReportStatus
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


def test_queue_lists_received_protocols_oldest_first(
    login, pathologist, vet_owner, technician
):
    first = make_received(vet_owner, technician, animal_name="Primero")
    second = make_received(vet_owner, technician, animal_name="Segundo")
    response = login(pathologist).get(reverse("reports:queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(first.protocol_number) < html.index(second.protocol_number)
    assert "Redactar" in html


def test_queue_is_for_histopathologists(login, vet_owner, technician):
    assert login(vet_owner).get(reverse("reports:queue")).status_code == 403
    assert login(technician).get(reverse("reports:queue")).status_code == 403


def test_queue_hides_protocols_with_a_finalized_report(
    login, pathologist, draft_report
):
    finalize_now(draft_report, pathologist)
    html = login(pathologist).get(reverse("reports:queue")).content.decode()
    assert draft_report.protocol.protocol_number not in html


def test_new_report_form_saves_a_draft(login, pathologist, received_protocol):
    client = login(pathologist)
    url = reverse("reports:create", kwargs={"protocol_pk": received_protocol.pk})
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"macroscopic": "Nódulo", "diagnosis": "Lipoma", "save": "1"}
    )
    report = Report.objects.get(protocol=received_protocol)
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:edit", kwargs={"pk": report.pk})
    assert report.diagnosis == "Lipoma"


def test_finalize_button_asks_for_confirmation_showing_what_and_to_whom(
    login, pathologist, draft_report, vet_owner
):
    client = login(pathologist)
    response = client.post(
        reverse("reports:edit", kwargs={"pk": draft_report.pk}),
        {"diagnosis": "Lipoma", "finalize": "1"},
    )
    confirm_url = reverse("reports:finalize", kwargs={"pk": draft_report.pk})
    assert response.status_code == 302
    assert response["Location"] == confirm_url
    # Saved, but nothing is finalized or sent before the confirmation.
    draft_report.refresh_from_db()
    assert draft_report.diagnosis == "Lipoma"
    assert draft_report.status == ReportStatus.DRAFT
    assert not Job.objects.filter(kind="report.finalize").exists()
    page = client.get(confirm_url).content.decode()
    assert "No se puede deshacer." in page
    assert vet_owner.veterinarian.full_name in page
    assert vet_owner.veterinarian.email in page
    assert "Lipoma" in page
    assert ".pdf" in page
    assert not Job.objects.filter(kind="report.finalize").exists()

    response = client.post(confirm_url)
    job = Job.objects.get(kind="report.finalize")
    assert response["Location"] == reverse(
        "reports:finalizing", kwargs={"pk": draft_report.pk, "job_id": job.pk}
    )
    page = client.get(response["Location"]).content.decode()
    assert f'id="job-{job.pk}"' in page
    assert "hx-get" in page
    draft_report.refresh_from_db()
    assert draft_report.status == ReportStatus.FINALIZING


def test_confirmation_names_the_alternative_notification_address(
    login, pathologist, draft_report, vet_owner
):
    vet = vet_owner.veterinarian
    vet.notification_email = "avisos@clinica.example"
    vet.save()
    page = (
        login(pathologist)
        .get(reverse("reports:finalize", kwargs={"pk": draft_report.pk}))
        .content.decode()
    )
    assert "avisos@clinica.example" in page


def test_finalize_without_diagnosis_shows_the_error_next_to_the_field(
    login, pathologist, draft_report
):
    response = login(pathologist).post(
        reverse("reports:edit", kwargs={"pk": draft_report.pk}),
        {"diagnosis": "", "finalize": "1"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "El diagnóstico es obligatorio." in html
    assert not Job.objects.filter(kind="report.finalize").exists()


def test_editing_a_finalized_report_redirects_to_detail(
    login, pathologist, draft_report
):
    finalize_now(draft_report, pathologist)
    client = login(pathologist)
    response = client.post(
        reverse("reports:edit", kwargs={"pk": draft_report.pk}),
        {"diagnosis": "Otro", "save": "1"},
    )
    assert response["Location"] == reverse(
        "reports:detail", kwargs={"pk": draft_report.pk}
    )
    draft_report.refresh_from_db()
    assert draft_report.diagnosis.startswith("Mastocitoma")


def test_detail_shows_hash_and_download_link(
    login, pathologist, vet_owner, draft_report
):
    finalize_now(draft_report, pathologist)
    html = (
        login(vet_owner)
        .get(reverse("reports:detail", kwargs={"pk": draft_report.pk}))
        .content.decode()
    )
    assert draft_report.pdf_sha256 in html
    assert reverse("reports:pdf", kwargs={"pk": draft_report.pk}) in html


def test_pdf_view_serves_etag_and_304(login, pathologist, vet_owner, draft_report):
    finalize_now(draft_report, pathologist)
    client = login(vet_owner)
    url = reverse("reports:pdf", kwargs={"pk": draft_report.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert response["ETag"] == f'"{draft_report.pdf_sha256}"'
    assert "informe-hp-" in response["Content-Disposition"]
    again = client.get(url, headers={"If-None-Match": f'"{draft_report.pdf_sha256}"'})
    assert again.status_code == 304


def test_other_vet_gets_404_on_detail_and_pdf(
    login, pathologist, vet_other, draft_report
):
    finalize_now(draft_report, pathologist)
    client = login(vet_other)
    assert (
        client.get(
            reverse("reports:detail", kwargs={"pk": draft_report.pk})
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("reports:pdf", kwargs={"pk": draft_report.pk})).status_code
        == 404
    )


def test_amend_button_creates_version_two(login, pathologist, draft_report):
    finalize_now(draft_report, pathologist)
    response = login(pathologist).post(
        reverse("reports:amend", kwargs={"pk": draft_report.pk}),
        {"reason": "Corrección del diagnóstico"},
    )
    new = Report.objects.get(version=2)
    assert response["Location"] == reverse("reports:edit", kwargs={"pk": new.pk})


def test_public_verify_page_and_upload_check(client, pathologist, draft_report):
    finalize_now(draft_report, pathologist)
    url = reverse("verify", kwargs={"verification_id": draft_report.verification_id})
    page = client.get(url).content.decode()
    assert "Informe auténtico y vigente." in page
    assert draft_report.protocol.protocol_number in page
    assert draft_report.pdf_sha256 in page
    from django.core.files.storage import default_storage

    with default_storage.open(draft_report.pdf_file, "rb") as handle:
        data = handle.read()
    ok = client.post(url, {"file": SimpleUploadedFile("informe.pdf", data)})
    assert "coincide con el PDF vigente" in ok.content.decode()
    bad = client.post(url, {"file": SimpleUploadedFile("x.pdf", data + b"x")})
    assert "NO coincide" in bad.content.decode()
    new = report_amend(report=draft_report, user=pathologist, reason="Corrección")
    finalize_now(new, pathologist)
    old = client.post(url, {"file": SimpleUploadedFile("informe.pdf", data)})
    html = old.content.decode()
    assert "Informe auténtico pero reemplazado." in html
    assert "coincide con un PDF anterior" in html


def test_verify_page_without_file_shows_the_error(client, pathologist, draft_report):
    finalize_now(draft_report, pathologist)
    url = reverse("verify", kwargs={"verification_id": draft_report.verification_id})
    response = client.post(url, {})
    assert "Este campo es obligatorio." in response.content.decode()


def test_home_panel_counts_pending_reports(login, pathologist, received_protocol):
    html = login(pathologist).get(reverse("core:home")).content.decode()
    assert "protocolo espera informe" in html


def test_protocol_page_include_hides_drafts_from_the_vet(
    rf, pathologist, vet_owner, draft_report
):
    from django.template.loader import render_to_string

    def render(user):
        request = rf.get("/")
        request.user = user
        return render_to_string(
            "reports/_protocol_reports.html",
            {"protocol": draft_report.protocol, "user": user},
            request=request,
        )

    assert reverse("reports:edit", kwargs={"pk": draft_report.pk}) in render(
        pathologist
    )
    assert reverse("reports:detail", kwargs={"pk": draft_report.pk}) not in render(
        vet_owner
    )
    finalize_now(draft_report, pathologist)
    assert reverse("reports:pdf", kwargs={"pk": draft_report.pk}) in render(vet_owner)
