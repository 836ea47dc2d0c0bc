from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from patolab.core.api import paginate

from .selectors import email_log_list_for
from .serializers import email_log_to_dict

router = Router(tags=["notifications"])


@router.get("/emails", url_name="email_list")
def email_list(
    request: HttpRequest,
    protocol_id: int | None = None,
    status: str = "",
    kind: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = email_log_list_for(
        user=request.user, protocol_id=protocol_id, status=status, kind=kind
    )
    return paginate(request, qs, email_log_to_dict, page=page, page_size=page_size)
