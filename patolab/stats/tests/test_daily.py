"""Daily statistics: figures of a seeded date, storage, API and page."""

from __future__ import annotations

import statistics
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from patolab.accounts.models import Role
from patolab.accounts.services import user_create
from patolab.stats.models import DailyStatistics
from patolab.stats.selectors import daily_statistics_compute
from patolab.stats.services import daily_statistics_store

from .factories import at, days, protocol, report, work_order

# A recent past day, so it is inside the page's last-30-days window.
D = timezone.localdate() - timedelta(days=11)


@pytest.fixture
def seeded(vet_owner, pathologist):
    other = user_create(
        username="patologo2",
        password="x-secreto-1",
        role=Role.HISTOPATHOLOGIST,
        email="p2@lab.example",
        first_name="Pedro",
        last_name="Segundo",
    )
    s0 = at(D, 0)
    # Histopathology completed on D (turnaround 9 d 1 h, 5 d 7 h, 2 d).
    h1 = protocol(
        vet_owner,
        history=[
            ("submitted", at(D - days(10), 9)),
            ("received", at(D - days(9), 10)),
            ("processing", at(D - days(8), 10)),
            ("ready", at(D - days(3), 10)),
            ("report_sent", at(D, 11)),
        ],
    )
    h2 = protocol(
        vet_owner,
        history=[("received", at(D - days(5), 8)), ("report_sent", at(D, 15))],
    )
    protocol(
        vet_owner,
        history=[("received", at(D - days(2), 12)), ("report_sent", at(D, 12))],
    )
    # Work in progress at the end of D.
    protocol(  # submitted and received on D, processing: not overdue
        vet_owner,
        history=[
            ("submitted", at(D, 8)),
            ("received", at(D, 10)),
            ("processing", at(D, 16)),
        ],
    )
    protocol(  # processing at the end of D (ready only on D+2): overdue
        vet_owner,
        history=[
            ("received", at(D - days(10), 9)),
            ("processing", at(D - days(9), 9)),
            ("ready", at(D + days(2), 9)),
        ],
    )
    protocol(  # received on D-1, report sent only on D+3: still received on D
        vet_owner,
        history=[("received", at(D - days(1), 9)), ("report_sent", at(D + days(3), 9))],
    )
    protocol(  # rejected on D
        vet_owner,
        history=[("submitted", at(D, 9)), ("rejected", at(D, 10))],
    )
    protocol(  # cancelled after reception before D ended: not in progress
        vet_owner,
        history=[("received", at(D - days(3), 9)), ("cancelled", at(D - days(1), 9))],
    )
    # Cytology.
    c1 = protocol(
        vet_owner,
        analysis_type="cytology",
        history=[("received", at(D - days(4), 9)), ("report_sent", at(D, 9))],
    )
    protocol(
        vet_owner,
        analysis_type="cytology",
        history=[
            ("submitted", at(D - days(1), 9)),
            ("received", at(D, 9)),
            ("ready", at(D, 17)),
        ],
    )
    protocol(  # 3-day target: overdue
        vet_owner,
        analysis_type="cytology",
        history=[("received", at(D - days(5), 9)), ("processing", at(D - days(4), 9))],
    )
    protocol(
        vet_owner, analysis_type="cytology", history=[("submitted", at(D, 23, 30))]
    )
    protocol(
        vet_owner,
        analysis_type="cytology",
        history=[("submitted", at(D + days(1), 0, 10))],
    )
    protocol(
        vet_owner,
        analysis_type="cytology",
        history=[("submitted", s0 - timedelta(minutes=1))],
    )
    # Reports finalized on D: two by the pathologist, one by the other; one the next day.
    report(h1, pathologist, finalized_at=at(D, 10))
    report(h2, pathologist, finalized_at=at(D, 14))
    report(c1, other, finalized_at=at(D, 8))
    report(h2, other, finalized_at=at(D + days(1), 8))
    # Work orders issued on D (and others that do not count).
    work_order(vet_owner, total="1000.50", issued_at=at(D, 10))
    work_order(vet_owner, total="2500.00", issued_at=at(D, 18))
    work_order(vet_owner, total="999.00", issued_at=at(D + days(1), 10))
    work_order(vet_owner, total="50.00", issued_at=None)
    return {"pathologist": pathologist, "other": other}


def test_statistics_for_a_seeded_date_match_the_figures_computed_by_hand(seeded):
    figures = daily_statistics_compute(day=D)

    hp = [9 + 1 / 24, 5 + 7 / 24, 2.0]  # reception -> report sent, in days
    ct = [4.0]
    both = hp + ct
    assert figures["protocols_submitted"] == 3
    assert figures["protocols_received"] == 2
    assert figures["protocols_completed"] == 4
    assert figures["rejections"] == 1
    assert figures["reports_finalized"] == 3
    assert figures["work_in_progress"] == {"received": 1, "processing": 3, "ready": 1}
    assert figures["work_in_progress_total"] == 5
    assert figures["overdue"] == 2
    assert figures["work_orders_issued"] == 2
    assert Decimal(figures["revenue"]) == Decimal("3500.50")

    histo = figures["by_analysis_type"]["histopathology"]
    cyto = figures["by_analysis_type"]["cytology"]
    assert (histo["submitted"], histo["received"], histo["completed"]) == (2, 1, 3)
    assert (cyto["submitted"], cyto["received"], cyto["completed"]) == (1, 1, 1)
    assert (histo["overdue"], cyto["overdue"]) == (1, 1)
    assert histo["median_turnaround_days"] == round(statistics.median(hp), 2)
    assert histo["p90_turnaround_days"] == round(
        statistics.quantiles(hp, n=10, method="inclusive")[8], 2
    )
    assert cyto["median_turnaround_days"] == 4.0
    assert figures["median_turnaround_days"] == round(statistics.median(both), 2)
    assert figures["p90_turnaround_days"] == round(
        statistics.quantiles(both, n=10, method="inclusive")[8], 2
    )
    assert [(i["name"], i["finalized"]) for i in figures["by_histopathologist"]] == [
        ("Paula Patóloga", 2),
        ("Pedro Segundo", 1),
    ]


def test_storing_a_date_twice_replaces_its_row(seeded):
    daily_statistics_store(day=D)
    DailyStatistics.objects.filter(date=D).update(figures={"protocols_received": 99})
    row = daily_statistics_store(day=D)
    assert DailyStatistics.objects.filter(date=D).count() == 1
    assert row.figures["protocols_received"] == 2


def test_today_is_never_stored(db):
    from patolab.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        daily_statistics_store(day=timezone.localdate())
    assert not DailyStatistics.objects.exists()


def test_setup_periodic_tasks_declares_the_daily_statistics_at_7_buenos_aires(db):
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")  # idempotent
    task = PeriodicTask.objects.get(task="patolab.stats.daily")
    assert task.enabled
    assert task.queue == "default"
    assert (task.crontab.hour, task.crontab.minute) == ("7", "0")
    assert str(task.crontab.timezone) == "America/Argentina/Buenos_Aires"
    assert PeriodicTask.objects.filter(task="patolab.stats.daily").count() == 1


def test_stats_daily_at_moves_the_daily_statistics_schedule(db, settings):
    call_command("setup_periodic_tasks")
    settings.STATS_DAILY_AT = (5, 30)  # STATS_DAILY_AT=05:30
    call_command("setup_periodic_tasks")
    task = PeriodicTask.objects.get(task="patolab.stats.daily")
    assert (task.crontab.hour, task.crontab.minute) == ("5", "30")
    assert PeriodicTask.objects.filter(task="patolab.stats.daily").count() == 1


# ---------------------------------------------------------------- API
def test_api_returns_the_stored_row_of_a_date(api, admin, seeded):
    daily_statistics_store(day=D)
    DailyStatistics.objects.filter(date=D).update(
        figures={**DailyStatistics.objects.get(date=D).figures, "rejections": 7}
    )
    body = api(admin).get("/api/v1/stats/daily", date=D.isoformat()).json()
    assert body["stored"] is True
    assert body["date"] == D.isoformat()
    assert body["rejections"] == 7  # the row, not a recomputation
    assert body["protocols_received"] == 2
    assert set(body["by_analysis_type"]) == {"cytology", "histopathology"}
    assert "median_turnaround_days" in body


def test_api_computes_a_date_without_a_row_on_the_spot_and_stores_nothing(
    api, admin, seeded
):
    client = api(admin)
    body = client.get("/api/v1/stats/daily", date=D.isoformat()).json()
    assert body["stored"] is False
    assert body["protocols_completed"] == 4
    today = client.get("/api/v1/stats/daily", date=timezone.localdate().isoformat())
    assert today.status_code == 200
    assert today.json()["stored"] is False
    assert not DailyStatistics.objects.exists()


def test_api_range_returns_the_stored_rows_oldest_first(api, admin, seeded):
    for day in (D - timedelta(days=1), D, D + timedelta(days=1)):
        daily_statistics_store(day=day)
    body = (
        api(admin)
        .get(
            "/api/v1/stats/daily",
            **{"from": D.isoformat(), "to": (D + timedelta(days=5)).isoformat()},
        )
        .json()
    )
    assert body["count"] == 2
    assert [r["date"] for r in body["results"]] == [
        D.isoformat(),
        (D + timedelta(days=1)).isoformat(),
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"date": "2026-13-01"},
        {"date": "ayer"},
        {"date": "2999-01-01"},
        {"from": "2026-11-20", "to": "2026-11-01"},
        {"from": "2020-01-01", "to": "2026-11-01"},
        {"from": "x"},
    ],
)
def test_api_bad_dates_are_a_400_with_the_error_format(api, admin, params):
    response = api(admin).get("/api/v1/stats/daily", **params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] in {"invalid_date", "invalid_range"}
    assert body["detail"]


def test_api_is_for_admins_only(api, technician, vet_owner, pathologist):
    for user in (technician, vet_owner, pathologist):
        assert api(user).get("/api/v1/stats/daily").status_code == 403
    assert api(None).get("/api/v1/stats/daily").status_code == 401


# ---------------------------------------------------------------- page
def test_statistics_page_draws_the_stored_days_with_the_vendored_chart_library(
    login, admin, seeded
):
    yesterday = timezone.localdate() - timedelta(days=1)
    daily_statistics_store(day=D)
    daily_statistics_store(day=yesterday)
    response = login(admin).get("/estadisticas/?days=30")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/chart-4.6.1.umd.min.js" in html
    assert "cdn" not in html.lower()
    series = response.context["data"].series
    assert len(series["labels"]) == 30
    assert response.context["data"].days_stored == 2  # D and yesterday
    assert series["received"]["histopathology"][-1] == 0
    assert "Paula Patóloga" in series["workload"]["labels"]
    assert response.context["data"].totals["revenue"] == Decimal("3500.50")


def test_statistics_page_is_for_admins_only(login, technician, vet_owner):
    for user in (technician, vet_owner):
        assert login(user).get("/estadisticas/").status_code == 403


def test_recompute_form_refuses_a_range_ending_today_with_a_spanish_error(login, admin):
    today = timezone.localdate()
    response = login(admin).post(
        "/estadisticas/recalcular/",
        {"first": (today - timedelta(days=2)).isoformat(), "last": today.isoformat()},
    )
    assert response.status_code == 400
    assert "debe ser anterior a hoy" in response.content.decode()
