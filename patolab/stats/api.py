"""`GET /api/v1/stats/daily` (API.md "Statistics and exports"), admins only."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from patolab.accounts.permissions import AuthenticatedHttpRequest, require_role
from patolab.core.errors import ValidationFailed

from .selectors import MAX_RANGE_DAYS, daily_statistics_get, daily_statistics_range

router = Router(tags=["stats"])


def _parse(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            _("Fecha inválida (AAAA-MM-DD)."),
            code="invalid_date",
            errors={field: [_("Fecha inválida (AAAA-MM-DD).")]},
        ) from None


def _params(request: HttpRequest) -> dict[str, str]:
    return {key: request.GET.get(key, "").strip() for key in ("date", "from", "to")}


@router.get("/stats/daily", url_name="stats_daily")
def stats_daily(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    """`?date=YYYY-MM-DD`: that day's stored row, or its figures computed on the
    spot (today, or a day never stored). `?from=&to=`: the stored rows of that
    range (at most 366 days) in the list envelope. 400 for a bad or future date
    or a bad range; 403 for non-admins."""
    require_role(request.user)
    params = _params(request)
    today = timezone.localdate()
    if params["date"] or not (params["from"] or params["to"]):
        day = _parse(params["date"], "date") if params["date"] else today
        if day > today:
            raise ValidationFailed(
                _("La fecha no puede ser futura."),
                code="invalid_date",
                errors={"date": [_("La fecha no puede ser futura.")]},
            )
        return daily_statistics_get(day=day)
    first = _parse(params["from"], "from")
    last = _parse(params["to"], "to") if params["to"] else today
    if first > last or (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(
            _("Rango de fechas inválido."),
            code="invalid_range",
            errors={"from": [_("Rango de hasta %(n)s días.") % {"n": MAX_RANGE_DAYS}]},
        )
    rows = daily_statistics_range(first=first, last=last)
    return {"count": len(rows), "next": None, "previous": None, "results": rows}
