"""Work-order services: create, edit while draft, issue, send, payment status.

Money math and the IVA decision live in `pricing.py`; PDF caching in
`documents.py`. Services raise `ValidationFailed` (400, with `errors` keyed by
field, `lines.<n>.<field>` for lines) or `Conflict` / `InvalidTransition` (409)
and change nothing when they do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.accounts.models import User, Veterinarian
from patolab.audit.services import audit_bulk_created
from patolab.core.errors import Conflict, InvalidTransition, ValidationFailed
from patolab.core.pdf.styles import format_money
from patolab.protocols.models import AnalysisType, Protocol
from patolab.protocols.services import counter_next

from .cuit import cuit_format, cuit_is_valid
from .models import (
    PaymentStatus,
    TaxCondition,
    WorkOrder,
    WorkOrderLine,
    WorkOrderPayment,
    WorkOrderProtocol,
    WorkOrderStatus,
)
from .pricing import (
    compute_totals,
    line_amounts,
    money,
    pricing_by_codes,
    pricing_for_analysis,
)
from .selectors import BILLABLE_STATUSES

MAX_QUANTITY = 10_000
MAX_MONEY = Decimal("9999999999.99")  # 12 digits, 2 decimals (model fields)

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class LineInput:
    """One requested line: a catalog code with quantity and discount. Values are
    kept raw (as received) so the service can name the bad field precisely."""

    code: Any
    quantity: Any = 1
    discount_percent: Any = 0
    protocol_id: Any = None


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _invalid(errors: Errors) -> ValidationFailed:
    first = next(iter(errors.values()))[0]
    return ValidationFailed(
        _("Datos inválidos: %(first)s") % {"first": first},
        code="invalid",
        errors=errors,
    )


# ---------------------------------------------------------------- header fields
@dataclass
class Header:
    tax_condition: str = ""
    billing_name: str = ""
    cuit: str = ""
    advance_payment: Decimal = Decimal("0.00")


def _parse_decimal(value: Any) -> Decimal | None:
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _clean_header(
    *,
    errors: Errors,
    veterinarian: Veterinarian,
    tax_condition: Any,
    billing_name: Any,
    cuit: Any,
    advance_payment: Any,
) -> Header:
    header = Header()
    if tax_condition not in TaxCondition.values:
        _add(
            errors,
            "tax_condition",
            _("Condición frente al IVA inválida. Opciones: %(opts)s.")
            % {"opts": ", ".join(TaxCondition.values)},
        )
    else:
        header.tax_condition = str(tax_condition)
    name = str(billing_name or "").strip() or veterinarian.full_name
    if len(name) > 150:
        _add(errors, "billing_name", _("La razón social admite hasta 150 caracteres."))
    header.billing_name = name
    cuit_text = str(cuit or "").strip()
    if cuit_text:
        if cuit_is_valid(cuit_text):
            header.cuit = cuit_format(cuit_text)
        else:
            _add(
                errors,
                "cuit",
                _(
                    "CUIT/CUIL inválido: deben ser 11 dígitos con dígito "
                    "verificador correcto (p. ej. 20-12345678-6)."
                ),
            )
    elif header.tax_condition and header.tax_condition != (
        TaxCondition.CONSUMIDOR_FINAL
    ):
        _add(
            errors,
            "cuit",
            _("El CUIT/CUIL es obligatorio salvo para consumidor final."),
        )
    advance = _parse_decimal(advance_payment if advance_payment is not None else 0)
    if advance is None:
        _add(errors, "advance_payment", _("El pago anticipado debe ser un número."))
    elif advance < 0:
        _add(errors, "advance_payment", _("El pago anticipado no puede ser negativo."))
    elif advance > MAX_MONEY:
        _add(errors, "advance_payment", _("El pago anticipado es demasiado grande."))
    else:
        header.advance_payment = money(advance)
    return header


# ---------------------------------------------------------------- lines
def _build_lines(
    *,
    errors: Errors,
    protocols: Sequence[Protocol],
    lines: Sequence[LineInput],
    auto_protocol_lines: bool,
) -> list[WorkOrderLine]:
    """Unsaved lines with prices from the catalog valid today, or errors."""
    built: list[WorkOrderLine] = []
    if auto_protocol_lines:
        for protocol in protocols:
            item = pricing_for_analysis(protocol.analysis_type)
            if item is None:
                _add(
                    errors,
                    "protocol_ids",
                    _("No hay precio vigente en el tarifario para %(type)s.")
                    % {"type": AnalysisType(protocol.analysis_type).label},
                )
                continue
            built.append(
                WorkOrderLine(
                    protocol=protocol,
                    code=item.code,
                    description=f"{item.description} · {protocol.code}",
                    quantity=1,
                    unit_price=item.unit_price,
                    discount_percent=Decimal("0.00"),
                )
            )
    catalog = pricing_by_codes({str(line.code).strip() for line in lines})
    by_id = {p.pk: p for p in protocols}
    for index, line in enumerate(lines):
        prefix = f"lines.{index}"
        code = str(line.code or "").strip()
        item = catalog.get(code)
        if not code:
            _add(errors, f"{prefix}.code", _("Falta el código del tarifario."))
        elif item is None:
            _add(
                errors,
                f"{prefix}.code",
                _("Línea %(n)s: código «%(code)s» desconocido o sin precio vigente.")
                % {"n": index + 1, "code": code[:40]},
            )
        quantity: int | None = None
        if isinstance(line.quantity, bool):
            raw_qty: Any = None
        else:
            raw_qty = line.quantity
        try:
            quantity = int(str(raw_qty).strip())
        except (TypeError, ValueError):
            _add(
                errors,
                f"{prefix}.quantity",
                _("Línea %(n)s: la cantidad debe ser un número entero.")
                % {"n": index + 1},
            )
        if quantity is not None and not 1 <= quantity <= MAX_QUANTITY:
            _add(
                errors,
                f"{prefix}.quantity",
                _("Línea %(n)s: la cantidad debe estar entre 1 y %(max)s.")
                % {"n": index + 1, "max": MAX_QUANTITY},
            )
            quantity = None
        discount = _parse_decimal(
            line.discount_percent if line.discount_percent not in (None, "") else 0
        )
        if discount is None or not Decimal(0) <= discount <= Decimal(100):
            _add(
                errors,
                f"{prefix}.discount_percent",
                _("Línea %(n)s: el descuento debe estar entre 0 y 100 %%.")
                % {"n": index + 1},
            )
            discount = None
        elif discount != discount.quantize(Decimal("0.01")):
            _add(
                errors,
                f"{prefix}.discount_percent",
                _("Línea %(n)s: el descuento admite hasta dos decimales.")
                % {"n": index + 1},
            )
            discount = None
        protocol = None
        if line.protocol_id not in (None, ""):
            try:
                protocol = by_id.get(int(line.protocol_id))
            except (TypeError, ValueError):
                protocol = None
            if protocol is None:
                _add(
                    errors,
                    f"{prefix}.protocol_id",
                    _("Línea %(n)s: el protocolo no está incluido en esta orden.")
                    % {"n": index + 1},
                )
        if item is None or quantity is None or discount is None:
            continue
        built.append(
            WorkOrderLine(
                protocol=protocol,
                code=item.code,
                description=(
                    f"{item.description} · {protocol.code}"
                    if protocol
                    else item.description
                ),
                quantity=quantity,
                unit_price=item.unit_price,
                discount_percent=discount,
            )
        )
    return built


def _apply_totals(
    *, work_order: WorkOrder, lines: list[WorkOrderLine], errors: Errors
) -> None:
    amounts = []
    for position, line in enumerate(lines):
        result = line_amounts(
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
        )
        line.amount = result.amount
        line.position = position
        amounts.append(result)
    totals = compute_totals(
        lines=amounts,
        tax_condition=work_order.tax_condition,
        advance_payment=work_order.advance_payment,
    )
    if totals.subtotal > MAX_MONEY:
        _add(errors, "lines", _("El total de la orden es demasiado grande."))
    if totals.advance_payment > totals.total:
        _add(
            errors,
            "advance_payment",
            _("El pago anticipado no puede superar el total de la orden."),
        )
    work_order.subtotal = totals.subtotal
    work_order.discount_total = totals.discount_total
    work_order.tax_total = totals.tax_total
    work_order.total = totals.total


def _payment_status_for(*, advance: Decimal, total: Decimal) -> str:
    if advance <= 0:
        return PaymentStatus.PENDING
    if advance >= total:
        return PaymentStatus.PAID
    return PaymentStatus.PARTIAL


# ---------------------------------------------------------------- numbering
def workorder_number_next(*, year: int) -> str:
    """`OT-YYYY-NNNN`, gap-free per year (the one counter: its row stays locked
    until the caller's transaction ends, so a rolled-back creation gives its
    number back)."""
    return f"OT-{year}-{counter_next(key=f'workorder:{year}'):04d}"


# ---------------------------------------------------------------- services
def _lock_protocols(*, errors: Errors, protocol_ids: Sequence[Any]) -> list[Protocol]:
    ids: list[int] = []
    for raw in protocol_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            _add(errors, "protocol_ids", _("Identificador de protocolo inválido."))
    if not ids and "protocol_ids" not in errors:
        _add(errors, "protocol_ids", _("Seleccione al menos un protocolo."))
    if len(set(ids)) != len(ids):
        _add(errors, "protocol_ids", _("Hay protocolos repetidos."))
    # Row locks: two work orders created at once for the same protocol serialize
    # here; the loser then sees the winner's link and gets a 409.
    found = list(
        Protocol.objects.select_for_update(of=("self",))
        .select_related("veterinarian")
        .filter(pk__in=set(ids))
        .order_by("pk")
    )
    missing = set(ids) - {p.pk for p in found}
    if missing:
        _add(
            errors,
            "protocol_ids",
            _("Protocolos inexistentes: %(ids)s.")
            % {"ids": ", ".join(str(i) for i in sorted(missing))},
        )
    order = {pk: n for n, pk in enumerate(ids)}
    return sorted(found, key=lambda p: order[p.pk])


def _check_protocols_billable(
    *, protocols: Sequence[Protocol], veterinarian: Veterinarian
) -> None:
    for protocol in protocols:
        if protocol.veterinarian_id != veterinarian.pk:
            raise Conflict(
                _("El protocolo %(code)s no pertenece a %(vet)s.")
                % {"code": protocol.code, "vet": veterinarian.full_name},
                code="protocol_other_veterinarian",
                errors={"protocol_ids": [str(protocol.pk)]},
            )
        if protocol.status not in BILLABLE_STATUSES:
            raise Conflict(
                _("El protocolo %(code)s no fue recibido (estado: %(status)s).")
                % {"code": protocol.code, "status": protocol.get_status_display()},
                code="protocol_not_received",
                errors={"protocol_ids": [str(protocol.pk)]},
            )
    billed = WorkOrderProtocol.objects.filter(protocol__in=protocols).select_related(
        "work_order", "protocol"
    )
    for link in billed:
        raise Conflict(
            _("El protocolo %(code)s ya está en la orden %(number)s.")
            % {"code": link.protocol.code, "number": link.work_order.number},
            code="protocol_already_billed",
            errors={"protocol_ids": [str(link.protocol_id)]},
        )


@transaction.atomic
def workorder_create(
    *,
    veterinarian: Veterinarian,
    protocols: Sequence[Protocol | int],
    lines: Sequence[LineInput] | None = None,
    tax_condition: str,
    billing_name: str = "",
    cuit: str = "",
    advance_payment: Decimal | str | int = 0,
    notes: str = "",
    created_by: User | None,
    auto_protocol_lines: bool | None = None,
) -> WorkOrder:
    """Create a draft work order numbered `OT-YYYY-NNNN` for `veterinarian`.

    Protocols must be the vet's, received (or later) and not on another work
    order (409). Without `lines` (or with `auto_protocol_lines=True`) each
    protocol gets a line priced from the catalog by analysis type; `lines` are
    catalog codes with quantity >= 1 and discount 0..100 (400 naming the line).
    Writes the work order, its protocol links and lines, and the year's counter.
    Staff only (checked by the caller).
    """
    errors: Errors = {}
    line_inputs = list(lines or [])
    auto = not line_inputs if auto_protocol_lines is None else auto_protocol_lines
    header = _clean_header(
        errors=errors,
        veterinarian=veterinarian,
        tax_condition=tax_condition,
        billing_name=billing_name,
        cuit=cuit,
        advance_payment=advance_payment,
    )
    ids = [p.pk if isinstance(p, Protocol) else p for p in protocols]
    locked = _lock_protocols(errors=errors, protocol_ids=ids)
    built = _build_lines(
        errors=errors, protocols=locked, lines=line_inputs, auto_protocol_lines=auto
    )
    if not built and not errors:
        _add(errors, "lines", _("La orden necesita al menos una línea."))
    work_order = WorkOrder(
        veterinarian=veterinarian,
        billing_name=header.billing_name,
        cuit=header.cuit,
        tax_condition=header.tax_condition,
        advance_payment=header.advance_payment,
        notes=str(notes or "").strip(),
        created_by=created_by if created_by and created_by.is_authenticated else None,
    )
    _apply_totals(work_order=work_order, lines=built, errors=errors)
    if errors:
        raise _invalid(errors)
    _check_protocols_billable(protocols=locked, veterinarian=veterinarian)
    work_order.payment_status = _payment_status_for(
        advance=work_order.advance_payment, total=work_order.total
    )
    work_order.number = workorder_number_next(year=timezone.localdate().year)
    work_order.save()
    try:
        with transaction.atomic():
            WorkOrderProtocol.objects.bulk_create(
                WorkOrderProtocol(work_order=work_order, protocol=p) for p in locked
            )
    except IntegrityError:
        # Only reachable if a protocol was linked without the row lock above.
        raise Conflict(
            _("Alguno de los protocolos ya está en otra orden de trabajo."),
            code="protocol_already_billed",
        ) from None
    for line in built:
        line.work_order = work_order
    WorkOrderLine.objects.bulk_create(built)
    audit_bulk_created(built)
    return work_order


def _lock(work_order: WorkOrder) -> WorkOrder:
    return (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("veterinarian")
        .get(pk=work_order.pk)
    )


def _require_draft(work_order: WorkOrder) -> None:
    if work_order.status != WorkOrderStatus.DRAFT:
        raise InvalidTransition(
            _("La orden %(number)s ya fue emitida: no se puede modificar.")
            % {"number": work_order.number},
            code="workorder_not_draft",
        )


@transaction.atomic
def workorder_update(
    *,
    work_order: WorkOrder,
    lines: Sequence[LineInput] | None = None,
    notes: str | None = None,
    billing_name: str | None = None,
    cuit: str | None = None,
    tax_condition: str | None = None,
    advance_payment: Decimal | str | int | None = None,
    user: User | None = None,
) -> WorkOrder:
    """Edit a draft: given lines replace all lines (re-priced from today's
    catalog); other fields change only when given. 409 once issued. Any printed
    change makes the cached PDF stale (its fingerprint no longer matches)."""
    locked = _lock(work_order)
    _require_draft(locked)
    errors: Errors = {}
    header = _clean_header(
        errors=errors,
        veterinarian=locked.veterinarian,
        tax_condition=locked.tax_condition if tax_condition is None else tax_condition,
        billing_name=locked.billing_name if billing_name is None else billing_name,
        cuit=locked.cuit if cuit is None else cuit,
        advance_payment=(
            locked.advance_payment if advance_payment is None else advance_payment
        ),
    )
    locked.tax_condition = header.tax_condition
    locked.billing_name = header.billing_name
    locked.cuit = header.cuit
    locked.advance_payment = header.advance_payment
    if notes is not None:
        locked.notes = str(notes).strip()
    protocols = [
        link.protocol for link in locked.protocol_links.select_related("protocol")
    ]
    if lines is not None:
        current = _build_lines(
            errors=errors,
            protocols=protocols,
            lines=list(lines),
            auto_protocol_lines=False,
        )
        if not current and not errors:
            _add(errors, "lines", _("La orden necesita al menos una línea."))
    else:
        current = list(locked.lines.all())
    _apply_totals(work_order=locked, lines=current, errors=errors)
    if errors:
        raise _invalid(errors)
    locked.payment_status = _payment_status_for(
        advance=locked.advance_payment, total=locked.total
    )
    locked.save()
    if lines is not None:
        locked.lines.all().delete()
        for line in current:
            line.work_order = locked
        WorkOrderLine.objects.bulk_create(current)
        audit_bulk_created(current)
    else:
        WorkOrderLine.objects.bulk_update(current, ["amount", "position"])
    return locked


@transaction.atomic
def workorder_issue(*, work_order: WorkOrder, user: User | None = None) -> WorkOrder:
    """draft -> issued (sets issued_at); 409 from any other status. The PDF then
    prints "Emitida" and the issue date, so the draft PDF becomes stale."""
    locked = _lock(work_order)
    _require_draft(locked)
    locked.status = WorkOrderStatus.ISSUED
    locked.issued_at = timezone.now()
    locked.save(update_fields=["status", "issued_at", "updated_at"])
    return locked


@transaction.atomic
def workorder_mark_sent(
    *, work_order: WorkOrder, user: User | None = None
) -> WorkOrder:
    """issued -> sent (delivered to the veterinarian); 409 otherwise."""
    locked = _lock(work_order)
    if locked.status != WorkOrderStatus.ISSUED:
        raise InvalidTransition(
            _("Solo una orden emitida puede marcarse como enviada."),
            code="workorder_not_issued",
        )
    locked.status = WorkOrderStatus.SENT
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def workorder_payment_record(
    *, work_order: WorkOrder, amount: Any, paid_on: Any, user: User | None = None
) -> WorkOrderPayment:
    """Record a payment (amount > 0, up to the balance; a date not in the
    future) on an issued or sent work order, and derive its payment status
    from the advance payment plus every payment: pending, partial or paid.
    400 names the bad field; 409 for a draft. Payments are not printed, so the
    cached PDF stays current. Staff only (checked by the caller).

    Side effects: one WorkOrderPayment row; the work order's payment_status."""
    errors: Errors = {}
    value = _parse_decimal(amount) if amount not in (None, "") else None
    if value is None:
        _add(errors, "amount", _("Indique el importe pagado."))
    elif value <= 0:
        _add(errors, "amount", _("El importe debe ser mayor que cero."))
    elif value != value.quantize(Decimal("0.01")):
        _add(errors, "amount", _("El importe admite hasta dos decimales."))
    day = paid_on
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip())
        except ValueError:
            day = None
    if not isinstance(day, date):
        _add(errors, "paid_on", _("Indique la fecha del pago (aaaa-mm-dd)."))
    elif day > timezone.localdate():
        _add(errors, "paid_on", _("La fecha del pago no puede ser futura."))
    locked = _lock(work_order)
    if locked.status == WorkOrderStatus.DRAFT:
        raise InvalidTransition(
            _("Emita la orden %(number)s antes de registrar pagos.")
            % {"number": locked.number},
            code="workorder_not_issued",
        )
    balance = workorder_balance(work_order=locked)
    if value is not None and "amount" not in errors and value > balance:
        _add(
            errors,
            "amount",
            _("El importe supera el saldo de la orden (%(balance)s).")
            % {"balance": format_money(balance)},
        )
    if errors or value is None or not isinstance(day, date):
        raise _invalid(errors)
    payment = WorkOrderPayment.objects.create(
        work_order=locked,
        amount=money(value),
        paid_on=day,
        recorded_by=user if user is not None and user.is_authenticated else None,
    )
    paid = locked.advance_payment + _payments_total(locked)
    locked.payment_status = _payment_status_for(advance=paid, total=locked.total)
    locked.save(update_fields=["payment_status", "updated_at"])
    return payment


def _payments_total(work_order: WorkOrder) -> Decimal:
    total = work_order.payments.aggregate(total=Sum("amount"))["total"]
    return total if total is not None else Decimal("0.00")


def workorder_balance(*, work_order: WorkOrder) -> Decimal:
    """What is still owed: total minus the advance payment and every payment."""
    return work_order.total - work_order.advance_payment - _payments_total(work_order)
