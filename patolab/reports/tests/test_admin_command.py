from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from patolab.jobs.models import Job, JobState
from patolab.reports.models import ReportPdf
from patolab.reports.services import report_finalize_execute, report_request_finalize

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@lab.example", "x")


@pytest.fixture
def finalized(draft_report, pathologist):
    report_request_finalize(report=draft_report, user=pathologist)
    report_finalize_execute(report_id=draft_report.pk, user_id=pathologist.pk)
    draft_report.refresh_from_db()
    return draft_report


def test_command_inline_regenerates_the_given_reports(finalized, admin, settings):
    settings.LAB_NAME = "Laboratorio renovado"
    out = io.StringIO()
    call_command("regenerate_report_pdfs", str(finalized.pk), "--inline", stdout=out)
    assert "1 regenerados" in out.getvalue()
    job = Job.objects.get(kind="reports.regenerate")
    assert job.state == JobState.SUCCEEDED
    assert ReportPdf.objects.filter(report=finalized, reason="regenerate").count() == 1


def test_command_without_ids_or_all_is_an_error(admin):
    with pytest.raises(CommandError):
        call_command("regenerate_report_pdfs")


def test_command_all_queues_one_bulk_job(finalized, admin):
    call_command("regenerate_report_pdfs", "--all", stdout=io.StringIO())
    job = Job.objects.get(kind="reports.regenerate")
    assert job.queue == "bulk"
    assert job.params == {"all": True}


def test_admin_action_starts_the_regeneration_job(login, superuser, finalized):
    client = login(superuser)
    response = client.post(
        reverse("admin:reports_report_changelist"),
        {"action": "regenerate_pdfs", "_selected_action": [finalized.pk]},
        follow=True,
    )
    assert response.status_code == 200
    job = Job.objects.get(kind="reports.regenerate")
    assert job.params == {"report_ids": [finalized.pk]}
    # The admin lands on the job's page, which names the work in Spanish.
    assert response.redirect_chain[-1][0].startswith(f"/trabajos/{job.pk}/")
    assert "Regeneración de PDFs de informes" in response.content.decode()


def test_admin_list_searches_by_protocol_number(login, superuser, finalized):
    response = login(superuser).get(
        reverse("admin:reports_report_changelist"),
        {"q": finalized.protocol.protocol_number},
    )
    assert response.status_code == 200
    assert finalized.protocol.animal_name in response.content.decode()
