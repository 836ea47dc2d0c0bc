"""Reads for statistics: the aggregates of one day, stored rows, chart series.

Every figure of a day is an aggregate over an indexed timestamp range (the
indexes are created by this app's migrations), so one day costs a handful of
index range scans whatever the size of the history. Callers check the role
(statistics are for admins).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from patolab.accounts.models import Role, User
from patolab.protocols.models import (
    TURNAROUND_DAYS,
    AnalysisType,
    Protocol,
    ProtocolStatus,
    ProtocolStatusHistory,
)
from patolab.protocols.selectors import turnaround_overdue
from patolab.reports.models import Report
from patolab.workorders.models import WorkOrder

from .models import DailyStatistics

TYPES = [t.value for t in AnalysisType]
# Statuses that count as "work in progress" at the end of a day.
WIP_STATUSES = [
    ProtocolStatus.RECEIVED.value,
    ProtocolStatus.PROCESSING.value,
    ProtocolStatus.READY.value,
]
PERIODS = (30, 90, 365)
MAX_RANGE_DAYS = 366


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in the lab's time zone."""
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's
    percentile_cont): the median is percentile(values, 0.5)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * fraction
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _by_type(rows: Iterable[Any], key: str = "analysis_type") -> dict[str, int]:
    counts = dict.fromkeys(TYPES, 0)
    for row in rows:
        counts[row[key]] = row["n"]
    return counts


def daily_statistics_compute(
    *, day: date, now: datetime | None = None
) -> dict[str, Any]:
    """The figures of `day` computed from the live tables (not stored).

    Work in progress and overdue are taken at the end of the day, or now for
    today: protocols received before that instant whose report was not sent yet,
    each with the status its history says it had then.
    """
    now = now or timezone.now()
    start, end = day_bounds(day)
    cutoff = min(end, now)
    protocols = Protocol.objects.order_by()

    submitted = _by_type(
        protocols.filter(submitted_at__gte=start, submitted_at__lt=end)
        .values("analysis_type")
        .annotate(n=Count("id"))
    )
    received = _by_type(
        protocols.filter(received_at__gte=start, received_at__lt=end)
        .values("analysis_type")
        .annotate(n=Count("id"))
    )
    rejected = _by_type(
        ProtocolStatusHistory.objects.order_by()
        .filter(
            to_status=ProtocolStatus.REJECTED, changed_at__gte=start, changed_at__lt=end
        )
        .values("protocol__analysis_type")
        .annotate(n=Count("protocol_id", distinct=True)),
        key="protocol__analysis_type",
    )

    # Completed (report sent) that day, with their turnaround in days.
    turnaround: dict[str, list[float]] = {t: [] for t in TYPES}
    for analysis_type, received_at, sent_at in protocols.filter(
        report_sent_at__gte=start, report_sent_at__lt=end
    ).values_list("analysis_type", "received_at", "report_sent_at"):
        if received_at is not None and sent_at is not None:
            turnaround[analysis_type].append(
                (sent_at - received_at).total_seconds() / 86400
            )
    completed_counts = protocols.filter(
        report_sent_at__gte=start, report_sent_at__lt=end
    )
    completed = _by_type(
        completed_counts.values("analysis_type").annotate(n=Count("id"))
    )

    # Work in progress at the cutoff, each protocol with its status then.
    status_then = (
        ProtocolStatusHistory.objects.filter(
            protocol_id=OuterRef("pk"), changed_at__lt=cutoff
        )
        .order_by("-changed_at", "-id")
        .values("to_status")[:1]
    )
    wip_by_status = dict.fromkeys(WIP_STATUSES, 0)
    overdue = dict.fromkeys(TYPES, 0)
    for analysis_type, received_at, status in (
        protocols.filter(received_at__lt=cutoff)
        .filter(Q(report_sent_at__isnull=True) | Q(report_sent_at__gte=cutoff))
        .annotate(
            status_then=Coalesce(
                Subquery(status_then), Value(ProtocolStatus.RECEIVED.value)
            )
        )
        .values_list("analysis_type", "received_at", "status_then")
    ):
        if status not in wip_by_status or received_at is None:
            continue  # cancelled (or rejected) by then
        wip_by_status[status] += 1
        if turnaround_overdue(
            analysis_type=analysis_type,
            status=status,
            received_at=received_at,
            now=cutoff,
        ):
            overdue[analysis_type] += 1

    finalized_rows = list(
        Report.objects.order_by()
        .filter(finalized_at__gte=start, finalized_at__lt=end)
        .values("histopathologist_id")
        .annotate(n=Count("id"))
    )
    names = {
        user.pk: user.display_name
        for user in User.objects.filter(
            pk__in=[row["histopathologist_id"] for row in finalized_rows]
        )
    }
    by_histopathologist = sorted(
        (
            {
                "id": row["histopathologist_id"],
                "name": names.get(row["histopathologist_id"], ""),
                "finalized": row["n"],
            }
            for row in finalized_rows
        ),
        key=lambda item: (-item["finalized"], item["name"]),
    )

    issued = (
        WorkOrder.objects.order_by()
        .filter(issued_at__gte=start, issued_at__lt=end)
        .aggregate(n=Count("id"), revenue=Sum("total"))
    )
    revenue: Decimal = issued["revenue"] or Decimal("0.00")

    all_turnaround = [v for values in turnaround.values() for v in values]
    return {
        "date": day.isoformat(),
        "protocols_submitted": sum(submitted.values()),
        "protocols_received": sum(received.values()),
        "protocols_completed": sum(completed.values()),
        "reports_finalized": sum(item["finalized"] for item in by_histopathologist),
        "rejections": sum(rejected.values()),
        "overdue": sum(overdue.values()),
        "work_in_progress": wip_by_status,
        "work_in_progress_total": sum(wip_by_status.values()),
        "median_turnaround_days": _round(percentile(all_turnaround, 0.5)),
        "p90_turnaround_days": _round(percentile(all_turnaround, 0.9)),
        "by_analysis_type": {
            t: {
                "submitted": submitted[t],
                "received": received[t],
                "completed": completed[t],
                "rejections": rejected[t],
                "overdue": overdue[t],
                "median_turnaround_days": _round(percentile(turnaround[t], 0.5)),
                "p90_turnaround_days": _round(percentile(turnaround[t], 0.9)),
                "target_days": TURNAROUND_DAYS[AnalysisType(t)],
            }
            for t in TYPES
        },
        "by_histopathologist": by_histopathologist,
        "work_orders_issued": issued["n"],
        "revenue": str(revenue.quantize(Decimal("0.01"))),
        "stored": False,
        "computed_at": now.isoformat(),
    }


def daily_statistics_get(*, day: date) -> dict[str, Any]:
    """The stored row of `day`, or its figures computed on the spot when there
    is none (today always)."""
    row = DailyStatistics.objects.filter(date=day).first()
    if row is not None:
        return row.as_dict()
    return daily_statistics_compute(day=day)


def daily_statistics_range(*, first: date, last: date) -> list[dict[str, Any]]:
    """Stored rows from `first` to `last` inclusive, oldest first."""
    return [
        row.as_dict()
        for row in DailyStatistics.objects.filter(
            date__gte=first, date__lte=last
        ).order_by("date")
    ]


# ---------------------------------------------------------------- charts
@dataclass(frozen=True)
class ChartData:
    first: date
    last: date
    days_stored: int
    series: dict[str, Any]
    totals: dict[str, Any]


def _month_label(day: date) -> str:
    return f"{day.month:02d}/{day.year}"


def statistics_chart_data(*, days: int, today: date | None = None) -> ChartData:
    """Series for the statistics page from the stored rows of the last `days`
    days (ending yesterday): volume by type, turnaround medians against the
    targets, work in progress by status, per-histopathologist workload and
    revenue per month. Days without a stored row show as gaps (None)."""
    today = today or timezone.localdate()
    last = today - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    rows: dict[date, dict[str, Any]] = dict(
        DailyStatistics.objects.filter(date__gte=first, date__lte=last).values_list(
            "date", "figures"
        )
    )
    labels: list[str] = []
    received: dict[str, list[int | None]] = {t: [] for t in TYPES}
    median: dict[str, list[float | None]] = {t: [] for t in TYPES}
    wip: dict[str, list[int | None]] = {s: [] for s in WIP_STATUSES}
    workload: Counter[str] = Counter()
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    totals: Counter[str] = Counter()
    day = first
    while day <= last:
        labels.append(day.strftime("%d/%m"))
        figures = rows.get(day)
        revenue.setdefault(_month_label(day), Decimal("0"))
        if figures is None:
            for t in TYPES:
                received[t].append(None)
                median[t].append(None)
            for s in WIP_STATUSES:
                wip[s].append(None)
        else:
            by_type = figures.get("by_analysis_type", {})
            for t in TYPES:
                received[t].append(by_type.get(t, {}).get("received", 0))
                median[t].append(by_type.get(t, {}).get("median_turnaround_days"))
            for s in WIP_STATUSES:
                wip[s].append(figures.get("work_in_progress", {}).get(s, 0))
            for item in figures.get("by_histopathologist", []):
                workload[item["name"] or str(item["id"])] += item["finalized"]
            revenue[_month_label(day)] += Decimal(figures.get("revenue", "0"))
            for key in (
                "protocols_received",
                "protocols_completed",
                "reports_finalized",
                "rejections",
            ):
                totals[key] += int(figures.get(key, 0))
        day += timedelta(days=1)
    return ChartData(
        first=first,
        last=last,
        days_stored=len(rows),
        series={
            "labels": labels,
            "received": received,
            "median_turnaround": median,
            "targets": {t: TURNAROUND_DAYS[AnalysisType(t)] for t in TYPES},
            "work_in_progress": wip,
            "workload": {
                "labels": [name for name, _ in workload.most_common()],
                "values": [n for _, n in workload.most_common()],
            },
            "revenue": {
                "labels": list(revenue),
                "values": [float(v) for v in revenue.values()],
            },
        },
        totals={**totals, "revenue": sum(revenue.values(), Decimal("0"))},
    )


def admin_recipients() -> list[User]:
    """Active admins with an e-mail address (the daily summary's recipients)."""
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(role=Role.ADMIN) | Q(is_superuser=True))
        .exclude(email="")
        .order_by("pk")
    )
