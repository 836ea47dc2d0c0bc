"""Reads of protocols. Every user-triggered read goes through these so that
veterinarians only ever see their own protocols (Http404 for the rest)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Cast, Substr
from django.http import Http404
from django.utils import timezone

from patolab.accounts.permissions import scope_to_user, user_placeholder, user_shape
from patolab.core.prepared import prepared_rows
from patolab.core.search import text_search

from .models import (
    TURNAROUND_DAYS,
    AnalysisType,
    Protocol,
    ProtocolStatus,
    Reception,
)

LIST_FILTERS = (
    "status",
    "analysis_type",
    "q",
    "received_from",
    "received_to",
    "veterinarian",
    "overdue",
    "sort",
)
# `sort` values of the protocol list: submission date or protocol number,
# each ascending or descending (newest first by default).
SORTS = ("-date", "date", "-number", "number")
# Statuses whose turnaround clock has stopped (never overdue).
_CLOSED = (
    ProtocolStatus.REPORT_SENT,
    ProtocolStatus.REJECTED,
    ProtocolStatus.CANCELLED,
)


def _base() -> QuerySet[Protocol]:
    return Protocol.objects.select_related(
        "veterinarian", "veterinarian__user", "reception", "reception__received_by"
    )


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


# Text columns the search box looks in, ignoring accents and case.
SEARCH_FIELDS = (
    "animal_name",
    "owner_name",
    "veterinarian__full_name",
    "presumptive_diagnosis",
)


# Report statuses whose diagnosis a veterinarian may search (a draft's text is
# not theirs to see yet); the reports app defines them, one floor above.
_FINAL_REPORT_STATUSES = ("finalized", "sent")


def protocol_search_q(q: str, *, drafts: bool = True) -> Q:
    """What the search box matches: codes and numbers (as typed or normalized),
    the animal, owner and vet, the presumptive diagnosis and the diagnosis of
    any report version ("nandu" finds "Ñandú"; core.search). The reports are
    matched by relation name in a subquery (one row per protocol, and no import
    of the reports app, which sits above this one)."""
    diagnosis = text_search(["reports__diagnosis"], q)
    if not drafts:
        # Same filter() call: the status applies to the matching version.
        diagnosis &= Q(reports__status__in=_FINAL_REPORT_STATUSES)
    with_diagnosis = Protocol.objects.filter(diagnosis).values("pk")
    return (
        Q(temporary_code__icontains=q)
        | Q(protocol_number__icontains=q)
        | Q(protocol_number__icontains=_normalize_number(q))
        | text_search(SEARCH_FIELDS, q)
        | Q(pk__in=with_diagnosis)
    )


def protocol_list_for(
    *, user: Any, filters: dict[str, Any] | None = None
) -> QuerySet[Protocol]:
    """Protocols visible to `user`, filtered by `status`, `analysis_type`, `q`
    (see `protocol_search_q`) and
    `received_from`/`received_to` (dates, inclusive). Unknown or empty filter
    values are ignored; invalid dates are ignored too (forms/API validate)."""
    filters = filters or {}
    qs = scope_to_user(_base(), user, vet_field="veterinarian")
    status = filters.get("status")
    if status:
        qs = qs.filter(status=status)
    analysis_type = filters.get("analysis_type")
    if analysis_type:
        qs = qs.filter(analysis_type=analysis_type)
    q = (filters.get("q") or "").strip()
    if q:
        drafts = not getattr(user, "is_veterinarian", False)
        qs = qs.filter(protocol_search_q(q, drafts=drafts))
    received_from = _as_date(filters.get("received_from"))
    if received_from:
        qs = qs.filter(received_at__date__gte=received_from)
    received_to = _as_date(filters.get("received_to"))
    if received_to:
        qs = qs.filter(received_at__date__lte=received_to)
    veterinarian = filters.get("veterinarian")
    if veterinarian:
        qs = qs.filter(veterinarian_id=getattr(veterinarian, "pk", veterinarian))
    if filters.get("overdue") in (True, "1", "true", "on"):
        qs = qs.filter(protocol_overdue_q())
    return _sorted(qs, filters.get("sort") or "-date")


def _sorted(qs: QuerySet[Protocol], sort: str) -> QuerySet[Protocol]:
    if sort not in SORTS:
        sort = "-date"
    if sort.endswith("date"):
        date = F("submitted_at")
        first = date.desc(nulls_last=True) if sort[0] == "-" else date.asc()
        return qs.order_by(first, "-id" if sort[0] == "-" else "id")
    # `HP 26/001`: type, two-digit year, then the counter as a number (so 1000
    # sorts after 999); protocols without a number (not received) go last.
    qs = qs.annotate(
        n_prefix=Substr("protocol_number", 1, 2),
        n_year=Substr("protocol_number", 4, 2),
        n_seq=Cast(Substr("protocol_number", 7), IntegerField()),
    )
    keys = (F("n_prefix"), F("n_year"), F("n_seq"))
    if sort[0] == "-":
        return qs.order_by(*(key.desc(nulls_last=True) for key in keys), "-id")
    return qs.order_by(*(key.asc(nulls_last=True) for key in keys), "id")


def protocol_overdue_q(now: datetime | None = None) -> Q:
    """Protocols past their turnaround target (reception + 7 days HP / 3 days
    CT) whose report was not sent: the queryset form of `protocol_is_overdue`."""
    now = now or timezone.now()
    late = Q()
    for analysis_type, days in TURNAROUND_DAYS.items():
        late |= Q(
            analysis_type=analysis_type, received_at__lt=now - timedelta(days=days)
        )
    return late & Q(received_at__isnull=False) & ~Q(status__in=_CLOSED)


def protocol_with_report_pdf(qs: QuerySet[Protocol]) -> QuerySet[Protocol]:
    """Annotate `report_pdf_id`: the newest finalized report version (the one
    whose PDF a list links to), or None. A correlated subquery by relation name
    (the reports app sits above this one); evaluated only for the rows shown."""
    newest = (
        Protocol.objects.filter(
            pk=OuterRef("pk"), reports__status__in=_FINAL_REPORT_STATUSES
        )
        .order_by("-reports__version")
        .values("reports__id")[:1]
    )
    return qs.annotate(report_pdf_id=Subquery(newest))


def protocol_list_for_api(
    *, user: Any, filters: dict[str, Any] | None = None
) -> QuerySet[Protocol]:
    """`protocol_list_for` with what the API's protocol objects print and
    nothing more: the latest report's id and status as two correlated
    subqueries (`latest_report_id`, `latest_report_status`; by relation name,
    the reports app sits above this one) instead of prefetching every report
    version with its texts, and no join to the veterinarian's user."""
    newest = Protocol.objects.filter(pk=OuterRef("pk"), reports__isnull=False).order_by(
        "-reports__version", "-reports__id"
    )
    return (
        protocol_list_for(user=user, filters=filters)
        .select_related(None)
        .select_related("veterinarian", "reception", "reception__received_by")
        .annotate(
            latest_report_id=Subquery(newest.values("reports__id")[:1]),
            latest_report_status=Subquery(newest.values("reports__status")[:1]),
        )
    )


# The columns of a protocol the API's list prints (`protocol_row_to_dict`).
API_LIST_COLUMNS = (
    "id",
    "analysis_type",
    "status",
    "temporary_code",
    "protocol_number",
    "veterinarian_id",
    "veterinarian__full_name",
    "species",
    "breed",
    "sex",
    "age",
    "animal_name",
    "owner_name",
    "presumptive_diagnosis",
    "clinical_history",
    "sample_description",
    "sampling_date",
    "academic_interest",
    "technique",
    "sampling_site",
    "slides",
    "material_submitted",
    "containers",
    "preservation",
    "rejection_reason",
    "submitted_at",
    "received_at",
    "report_sent_at",
    "reception__id",
    "reception__sample_condition",
    "reception__containers_received",
    "reception__discrepancies",
    "reception__notes",
    "reception__received_by__username",
    "reception__received_at",
    "latest_report_id",
    "latest_report_status",
)


def protocol_page_for_api(
    *, user: Any, filters: dict[str, Any], offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """(count, rows) of one page of `protocol_list_for_api`: plain rows of
    `API_LIST_COLUMNS` plus the count of every matching row (a window count
    in the page's own query), no model instances. The API list is the busiest
    read, so without a search or date filter its SQL is built once per shape
    (role, filters present, sort) and run as a prepared statement
    (`patolab.core.prepared`); the visibility rule is the selector's own."""
    filters = {name: value for name, value in filters.items() if value}
    shape = (user_shape(user), tuple(sorted(filters)))
    plain = {"status", "analysis_type", "sort"}
    prepared = (
        connections[Protocol.objects.db].vendor == "postgresql"
        and set(filters) <= plain
        and all(isinstance(filters[name], str) for name in filters)
        and filters.get("sort", "-date") in SORTS
    )

    def build(values: dict[str, Any]) -> QuerySet[Protocol, dict[str, Any]]:
        who = user_placeholder(user, values["user"]) if prepared else user
        page: QuerySet[Protocol, dict[str, Any]] = protocol_list_for_api(
            user=who, filters={**filters, **{k: values[k] for k in filters}}
        ).values(*API_LIST_COLUMNS, total=Window(Count("pk")))
        return page

    values = {"user": user.pk, **filters}
    if prepared:
        sort = values.pop("sort", "-date")
        rows = prepared_rows(
            ("protocols.api_page", shape, sort),
            lambda marks: build({**marks, "sort": sort}),
            limit=limit,
            offset=offset,
            **values,
        )
    else:
        rows = list(build(values)[offset : offset + limit])
    if rows:
        return rows[0]["total"], rows
    if offset == 0:
        return 0, rows
    # Past the last page: the window had no row to count on.
    return protocol_list_for(user=user, filters=filters).count(), rows


def protocol_get_for(*, user: Any, pk: Any) -> Protocol:
    """One protocol the user may see; Http404 for another vet's or a missing one."""
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    qs = scope_to_user(_base(), user, vet_field="veterinarian")
    try:
        return qs.get(pk=pk_int)
    except Protocol.DoesNotExist:
        raise Http404 from None


def protocol_slip_get_for(*, user: Any, pk: Any) -> Protocol:
    """A protocol whose submission slip `user` may open: its veterinarian, lab
    staff and admins (the same scope as the protocol page; 404 otherwise)."""
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    qs = scope_to_user(
        Protocol.objects.select_related("veterinarian", "submission_slip"),
        user,
        vet_field="veterinarian",
    )
    try:
        return qs.get(pk=pk_int)
    except Protocol.DoesNotExist:
        raise Http404 from None


_NUMBER_RE = re.compile(
    r"^\s*(CT|HP)\s*[-_ ]?\s*(\d{2})\s*[/\-_. ]\s*(\d{1,6})\s*$", re.I
)
_TMP_RE = re.compile(
    r"^\s*TMP\s*[-_ ]?\s*(CT|HP)\s*[-_ ]?\s*(\d{8})\s*[-_ ]?\s*(\d{1,6})\s*$", re.I
)


def _normalize_number(code: str) -> str:
    """'hp26/12', ' HP 26 / 012 ' -> 'HP 26/012' (the stored format)."""
    match = _NUMBER_RE.match(code)
    if not match:
        return code.strip().upper()
    prefix, yy, seq = match.groups()
    return f"{prefix.upper()} {yy}/{int(seq):03d}"


def _normalize_temporary(code: str) -> str:
    match = _TMP_RE.match(code)
    if not match:
        return code.strip().upper()
    prefix, day, seq = match.groups()
    return f"TMP-{prefix.upper()}-{day}-{int(seq):03d}"


def protocol_lookup(*, code: str) -> Protocol | None:
    """Find a protocol by temporary code or protocol number, tolerating case,
    extra spaces and scanner separators. For staff only (no scoping): callers
    check the role first. Returns None when nothing matches."""
    code = (code or "").strip()
    if not code:
        return None
    # A scanned QR holds the protocol URL: accept ".../protocolos/<id>/".
    url_match = re.search(r"/protocolos/(\d+)/?$", code)
    if url_match:
        return _base().filter(pk=int(url_match.group(1))).first()
    candidates = {
        code,
        code.upper(),
        _normalize_number(code),
        _normalize_temporary(code),
    }
    return (
        _base()
        .filter(Q(temporary_code__in=candidates) | Q(protocol_number__in=candidates))
        .first()
    )


@dataclass(frozen=True)
class PendingItem:
    protocol: Protocol
    days_waiting: int
    overdue: bool


# Submitted samples older than this are highlighted in the pending list.
PENDING_OVERDUE_DAYS = 3


def protocol_pending_reception(*, user: Any | None = None) -> QuerySet[Protocol]:
    """Submitted protocols waiting for reception, oldest first."""
    qs = _base().filter(status=ProtocolStatus.SUBMITTED)
    if user is not None:
        qs = scope_to_user(qs, user, vet_field="veterinarian")
    return qs.order_by("submitted_at", "id")


def protocol_pending_items(
    *, protocols: Any, now: datetime | None = None
) -> list[PendingItem]:
    """Decorate pending protocols with days waiting and the overdue flag."""
    now = now or timezone.now()
    items = []
    for protocol in protocols:
        since = protocol.submitted_at or protocol.created_at
        days = max(0, (now - since).days) if since else 0
        items.append(PendingItem(protocol, days, days > PENDING_OVERDUE_DAYS))
    return items


def reception_history(*, filters: dict[str, Any] | None = None) -> QuerySet[Reception]:
    """Receptions, newest first (staff only: callers check the role)."""
    filters = filters or {}
    qs = Reception.objects.select_related(
        "protocol", "protocol__veterinarian", "received_by"
    )
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(protocol__protocol_number__icontains=q)
            | Q(protocol__protocol_number__icontains=_normalize_number(q))
            | Q(protocol__temporary_code__icontains=q)
            | Q(protocol__animal_name__icontains=q)
            | Q(protocol__veterinarian__full_name__icontains=q)
        )
    return qs.order_by("-received_at", "-id")


def turnaround_due(
    *, analysis_type: str, received_at: datetime | None
) -> datetime | None:
    """When the report is due: reception + 7 days HP / 3 days CT (None before
    reception). THE turnaround rule, on plain values, for every list, export and
    statistic; `protocol_overdue_q` is its queryset form."""
    if received_at is None:
        return None
    # The field holds the enum's value; the table is keyed by the enum member.
    return received_at + timedelta(days=TURNAROUND_DAYS[AnalysisType(analysis_type)])


def turnaround_overdue(
    *, analysis_type: str, status: str, received_at: datetime | None, now: datetime
) -> bool:
    """Past the turnaround target at `now` and the report not sent yet (nor the
    protocol rejected or cancelled)."""
    due = turnaround_due(analysis_type=analysis_type, received_at=received_at)
    return due is not None and status not in _CLOSED and now > due


def protocol_turnaround_due(*, protocol: Protocol) -> datetime | None:
    """When the report is due (reception + 7 days HP / 3 days CT)."""
    return turnaround_due(
        analysis_type=protocol.analysis_type, received_at=protocol.received_at
    )


def protocol_is_overdue(*, protocol: Protocol, now: datetime | None = None) -> bool:
    """Past the turnaround target and the report not sent yet."""
    return turnaround_overdue(
        analysis_type=protocol.analysis_type,
        status=protocol.status,
        received_at=protocol.received_at,
        now=now or timezone.now(),
    )


def protocol_history(*, protocol: Protocol) -> QuerySet[Any]:
    return protocol.history.select_related("changed_by").order_by("changed_at", "id")


def protocol_emails(*, protocol: Protocol) -> QuerySet[Any]:
    """EmailLog rows for a protocol (staff only: callers check the role)."""
    return protocol.emails.all().order_by("-created_at")


@dataclass(frozen=True)
class ProtocolRow:
    protocol: Protocol
    due: datetime | None
    overdue: bool


def protocol_rows(*, protocols: Any, now: datetime | None = None) -> list[ProtocolRow]:
    """Decorate protocols with the turnaround due date and overdue flag
    (7 days HP / 3 days CT from reception until the report is sent)."""
    now = now or timezone.now()
    return [
        ProtocolRow(
            protocol=p,
            due=protocol_turnaround_due(protocol=p),
            overdue=protocol_is_overdue(protocol=p, now=now),
        )
        for p in protocols
    ]


# ---------------------------------------------------------------- timeline
@dataclass(frozen=True)
class TimelineEvent:
    """Something that happened to a protocol besides a status change (a report
    amendment, an assignment), contributed by a higher app."""

    at: datetime
    title: str
    note: str = ""
    by: str = ""
    kind: str = "event"


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    history: Any = None
    event: TimelineEvent | None = None


TimelineSource = Callable[..., list[TimelineEvent]]
_TIMELINE_SOURCES: list[TimelineSource] = []


def register_timeline_source(source: TimelineSource) -> TimelineSource:
    """Higher apps add events to the protocol timeline from AppConfig.ready
    (protocols never imports them). A source is called as
    `source(protocol=..., user=...)` and returns what that user may see."""
    if source not in _TIMELINE_SOURCES:
        _TIMELINE_SOURCES.append(source)
    return source


def protocol_timeline(*, protocol: Protocol, user: Any) -> list[TimelineItem]:
    """Status changes and registered events, oldest first."""
    items = [
        TimelineItem(at=h.changed_at, history=h)
        for h in protocol_history(protocol=protocol)
    ]
    for source in _TIMELINE_SOURCES:
        items += [
            TimelineItem(at=event.at, event=event)
            for event in source(protocol=protocol, user=user)
        ]
    return sorted(items, key=lambda item: item.at)


def protocol_batch_rows(*, ids: list[int]) -> list[Protocol]:
    """The protocols of a batch-reception list, in scan order, with what each
    row shows (veterinarian, animal, declared count). Staff only: callers check
    the role (no scoping, like `protocol_lookup`)."""
    found = _base().select_related("veterinarian").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]
