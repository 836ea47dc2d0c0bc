"""The exportable datasets: their filters (the same keys, forms and selectors
as the lists they come from), columns and row streams.

Rows are read with `values_list(...).iterator()` (a server-side cursor on
PostgreSQL), a chunk at a time, so memory stays flat however many rows match.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db import models
from django.db.models import Count, FloatField, Func, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patolab.accounts.models import User
from patolab.core.errors import ValidationFailed
from patolab.protocols.forms import ProtocolFilterForm
from patolab.protocols.models import (
    AnalysisType,
    Protocol,
    ProtocolStatus,
    Sex,
)
from patolab.protocols.selectors import (
    protocol_list_for,
    turnaround_due,
    turnaround_overdue,
)
from patolab.reports.models import Report, ReportStatus
from patolab.workorders.forms import WorkOrderFilterForm
from patolab.workorders.models import (
    PaymentStatus,
    TaxCondition,
    WorkOrderStatus,
)
from patolab.workorders.selectors import workorder_list_for

from .writers import Column

CHUNK = 2000
LAB_TZ = ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    filter_form: type[forms.Form]
    # API spellings of the list's filters -> the form's field names.
    aliases: dict[str, str]


def _dataset(name: str) -> DatasetSpec:
    if name == "protocols":
        return DatasetSpec("protocols", _("Protocolos"), ProtocolFilterForm, {})
    return DatasetSpec(
        "workorders",
        _("Órdenes de trabajo"),
        WorkOrderFilterForm,
        # GET /api/v1/workorders names these created_from/created_to/veterinarian_id.
        {
            "created_from": "date_from",
            "created_to": "date_to",
            "veterinarian_id": "veterinarian",
        },
    )


DATASETS = ("protocols", "workorders")


def filters_clean(*, dataset: str, filters: dict[str, Any]) -> dict[str, Any]:
    """Validate an export's filters with the list's own filter form.

    Unknown keys, bad dates or bad choices raise ValidationFailed (400) with the
    offending keys: a typo must never silently export everything. Returns the
    cleaned filters, JSON-safe (dates as ISO strings), empty values dropped.
    """
    spec = _dataset(dataset)
    if not isinstance(filters, dict):
        raise ValidationFailed(
            _("Los filtros deben ser un objeto."),
            code="invalid_filters",
            errors={"filters": [_("Los filtros deben ser un objeto.")]},
        )
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    form_fields = spec.filter_form.base_fields
    for key, value in filters.items():
        field = spec.aliases.get(key, key)
        if field == "veterinarian" and spec.name == "workorders":
            data[field] = value
            continue
        if field not in form_fields:
            errors[f"filters.{key}"] = [_("Filtro desconocido.")]
            continue
        if value is not None and not isinstance(value, str | int | float | bool):
            errors[f"filters.{key}"] = [_("Valor inválido.")]
            continue
        data[field] = "" if value is None else str(value)
    veterinarian = data.pop("veterinarian", None)
    form = spec.filter_form(data)
    if form.is_valid():
        cleaned = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
    else:
        cleaned = {}
        for field, messages in form.errors.items():
            errors[f"filters.{field}"] = [str(m) for m in messages]
    if veterinarian not in (None, ""):
        try:
            cleaned["veterinarian"] = int(veterinarian)
        except (TypeError, ValueError):
            errors["filters.veterinarian_id"] = [_("Debe ser un número entero.")]
    if errors:
        raise ValidationFailed(
            _("Filtros inválidos: revise los campos indicados."),
            code="invalid_filters",
            errors=errors,
        )
    return {k: _json_value(v) for k, v in cleaned.items() if v is not False}


def _json_value(value: Any) -> Any:
    """A cleaned filter value as JSON (job parameters): dates as ISO text,
    model choices (a veterinarian) as their primary key."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def dataset_filter_keys(dataset: str) -> set[str]:
    """The filter keys a dataset accepts (its list form's fields and aliases)."""
    spec = _dataset(dataset)
    return set(spec.filter_form.base_fields) | set(spec.aliases)


def _typed(filters: dict[str, Any]) -> dict[str, Any]:
    """JSON filters back to the types the selectors take (ISO dates -> date)."""
    out: dict[str, Any] = {}
    for key, value in filters.items():
        if key.endswith(("_from", "_to")) and isinstance(value, str):
            out[key] = date.fromisoformat(value)
        else:
            out[key] = value
    return out


class Epoch(Func):
    """A timestamp as seconds since 1970 (float). psycopg loads a float in C,
    while Django's time-zone-aware timestamp loader is pure Python: for three
    timestamps of 100,000 rows that is seconds of an export's time budget."""

    output_field = FloatField()

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, Any]:
        template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, Any]:
        # SQLite keeps UTC text; julianday() reads it.
        template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, **extra)


def _labels(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Choice labels translated once (a lazy label would run gettext per cell)."""
    return {value: str(label) for value, label in choices}


_UNIX_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - a naive local clock origin
# UTC offset of the lab's zone per hour since 1970 (offsets change on whole
# hours); bounded by the time span of the data, not by the number of rows.
_OFFSETS: dict[int, timedelta] = {}


def local(epoch: float | None) -> datetime | None:
    """Seconds since 1970 -> the lab's local wall-clock time (naive, as a
    spreadsheet shows it). The zone lookup is cached per hour: it is the
    costliest step per timestamp otherwise."""
    if epoch is None:
        return None
    hour = int(epoch // 3600)
    offset = _OFFSETS.get(hour)
    if offset is None:
        moment = datetime.fromtimestamp(hour * 3600, LAB_TZ)
        offset = _OFFSETS.setdefault(hour, moment.utcoffset() or timedelta(0))
    return _UNIX_EPOCH + timedelta(seconds=epoch) + offset


# ---------------------------------------------------------------- protocols
PROTOCOL_COLUMNS = [
    Column(gettext_lazy("Número"), width=12, safe=True),
    Column(gettext_lazy("Código temporal"), width=22, safe=True),
    Column(gettext_lazy("Tipo"), width=15, safe=True),
    Column(gettext_lazy("Estado"), width=18, safe=True),
    Column(gettext_lazy("Veterinario/a"), width=24),
    Column(gettext_lazy("Matrícula"), width=11),
    Column(gettext_lazy("Localidad"), width=16),
    Column(gettext_lazy("Especie"), width=10, safe=True),
    Column(gettext_lazy("Raza"), width=14),
    Column(gettext_lazy("Sexo"), width=10, safe=True),
    Column(gettext_lazy("Edad"), width=9),
    Column(gettext_lazy("Animal"), width=16),
    Column(gettext_lazy("Propietario/a"), width=20),
    Column(gettext_lazy("Toma de muestra"), "date", 13),
    Column(gettext_lazy("Enviado"), "datetime", 16),
    Column(gettext_lazy("Recibido"), "datetime", 16),
    Column(gettext_lazy("Informe enviado"), "datetime", 16),
    Column(gettext_lazy("Vence"), "datetime", 16),
    Column(gettext_lazy("Demora (días)"), "number", 9),
    Column(gettext_lazy("Vencido"), width=8, safe=True),
    Column(gettext_lazy("Estado del informe"), width=14, safe=True),
    Column(gettext_lazy("Diagnóstico"), width=40),
    Column(gettext_lazy("Orden de trabajo"), width=14, safe=True),
]


def _protocol_queryset(
    *, user: User, filters: dict[str, Any], ids: Sequence[int] | None
) -> QuerySet[Protocol]:
    qs = protocol_list_for(user=user, filters=_typed(filters))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs


def protocol_rows(
    *, user: User, filters: dict[str, Any], ids: Sequence[int] | None = None
) -> tuple[int, Iterator[tuple[Any, ...]]]:
    """(row count, rows) of the protocols the user may see with these filters,
    in the list's order; the report columns are the current (latest) version."""
    qs = _protocol_queryset(user=user, filters=filters, ids=ids)
    total = qs.count()
    latest = Report.objects.filter(protocol_id=OuterRef("pk")).order_by("-version")
    values = qs.annotate(
        report_status=Subquery(latest.values("status")[:1]),
        report_diagnosis=Subquery(latest.values("diagnosis")[:1]),
        submitted_epoch=Epoch("submitted_at"),
        received_epoch=Epoch("received_at"),
        sent_epoch=Epoch("report_sent_at"),
    ).values_list(
        "protocol_number",
        "temporary_code",
        "analysis_type",
        "status",
        "veterinarian__full_name",
        "veterinarian__license_number",
        "veterinarian__locality",
        "species",
        "breed",
        "sex",
        "age",
        "animal_name",
        "owner_name",
        "sampling_date",
        "submitted_epoch",
        "received_epoch",
        "sent_epoch",
        "report_status",
        "report_diagnosis",
        "work_order_link__work_order__number",
    )
    types = _labels(AnalysisType.choices)
    statuses = _labels(ProtocolStatus.choices)
    sexes = _labels(Sex.choices)
    report_statuses = _labels(ReportStatus.choices)
    yes, no = _("Sí"), _("No")
    now = timezone.localtime().replace(tzinfo=None)  # compared with local() times

    def rows() -> Iterator[tuple[Any, ...]]:
        for (
            number, tmp, kind, status, vet, license_number, locality, species,
            breed, sex, age, animal, owner, sampled, submitted, received, sent,
            report_status, diagnosis, work_order,
        ) in values.iterator(chunk_size=CHUNK):  # fmt: skip
            # The one turnaround rule, on plain values (a model instance per
            # row would double the time), in the lab's wall-clock time.
            received_at = local(received)
            due = turnaround_due(analysis_type=kind, received_at=received_at)
            overdue = turnaround_overdue(
                analysis_type=kind, status=status, received_at=received_at, now=now
            )
            turnaround = (
                round((sent - received) / 86400, 2)
                if sent is not None and received is not None
                else None
            )
            yield (
                number, tmp, types.get(kind, kind), statuses.get(status, status),
                vet, license_number, locality, species, breed, sexes.get(sex, sex),
                age, animal, owner, sampled, local(submitted), received_at,
                local(sent), due,
                turnaround, yes if overdue else no,
                report_statuses.get(report_status, report_status or ""),
                diagnosis, work_order,
            )  # fmt: skip

    return total, rows()


# ---------------------------------------------------------------- work orders
WORKORDER_COLUMNS = [
    Column(gettext_lazy("Número"), width=14, safe=True),
    Column(gettext_lazy("Creada"), "datetime", 16),
    Column(gettext_lazy("Emitida"), "datetime", 16),
    Column(gettext_lazy("Estado"), width=10, safe=True),
    Column(gettext_lazy("Veterinario/a"), width=24),
    Column(gettext_lazy("Razón social"), width=28),
    Column(gettext_lazy("CUIT/CUIL"), width=14),
    Column(gettext_lazy("Condición frente al IVA"), width=22, safe=True),
    Column(gettext_lazy("Protocolos"), "int", 10),
    Column(gettext_lazy("Neto"), "money", 14),
    Column(gettext_lazy("IVA"), "money", 13),
    Column(gettext_lazy("Total"), "money", 14),
    Column(gettext_lazy("Pago anticipado"), "money", 14),
    Column(gettext_lazy("Saldo"), "money", 14),
    Column(gettext_lazy("Estado de pago"), width=13, safe=True),
]


def workorder_rows(
    *, user: User, filters: dict[str, Any], ids: Sequence[int] | None = None
) -> tuple[int, Iterator[tuple[Any, ...]]]:
    """(row count, rows) of the work orders the user may see with these
    filters, for accounting: net, IVA and total as numbers."""
    qs = workorder_list_for(user=user, filters=_typed(filters))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    total = qs.count()
    values = qs.annotate(
        protocol_count=Count("protocol_links"),
        created_epoch=Epoch("created_at"),
        issued_epoch=Epoch("issued_at"),
    ).values_list(
        "number",
        "created_epoch",
        "issued_epoch",
        "status",
        "veterinarian__full_name",
        "billing_name",
        "cuit",
        "tax_condition",
        "protocol_count",
        "total",
        "tax_total",
        "advance_payment",
        "payment_status",
    )
    statuses = _labels(WorkOrderStatus.choices)
    taxes = _labels(TaxCondition.choices)
    payments = _labels(PaymentStatus.choices)

    def rows() -> Iterator[tuple[Any, ...]]:
        for (
            number, created, issued, status, vet, billing, cuit, tax_condition,
            protocols, amount, tax, advance, payment,
        ) in values.iterator(chunk_size=CHUNK):  # fmt: skip
            yield (
                number, local(created), local(issued), statuses.get(status, status), vet,
                billing, cuit, taxes.get(tax_condition, tax_condition), protocols,
                amount - tax, tax, amount, advance, amount - advance,
                payments.get(payment, payment),
            )  # fmt: skip

    return total, rows()


def dataset_columns(dataset: str) -> list[Column]:
    return PROTOCOL_COLUMNS if dataset == "protocols" else WORKORDER_COLUMNS


def dataset_rows(
    *, dataset: str, user: User, filters: dict[str, Any], ids: Sequence[int] | None
) -> tuple[int, Iterator[tuple[Any, ...]]]:
    source = protocol_rows if dataset == "protocols" else workorder_rows
    return source(user=user, filters=filters, ids=ids)


def dataset_title(dataset: str) -> str:
    return _dataset(dataset).title
