"""Brute-force and e-mail abuse limits (issue: login throttling, account e-mails).

Login lockout is django-axes (settings: LOGIN_FAILURE_LIMIT,
LOGIN_LOCKOUT_MINUTES); this module gives it the client address and the
Spanish lockout answer, and throttles the e-mails anyone can trigger without an
account (password reset, verification) per address and per client.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_ip(request: HttpRequest) -> str:
    """The client's address: the socket peer, or the entry TRUSTED_PROXY_COUNT
    hops from the right of X-Forwarded-For behind that many trusted proxies
    (entries further left are set by the client and cannot be trusted)."""
    hops = int(settings.TRUSTED_PROXY_COUNT)
    if hops > 0:
        chain = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(chain) >= hops:
            return chain[-hops]
    return str(request.META.get("REMOTE_ADDR") or "0.0.0.0")  # noqa: S104


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Demasiados intentos fallidos de ingreso. La cuenta o la dirección quedó "
        "bloqueada por %(minutes)s minutos. Puede restablecer su contraseña o "
        "pedir al laboratorio que la desbloquee."
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with the API's JSON error under /api/, the
    Spanish lockout page elsewhere (web login and admin login)."""
    message = lockout_message()
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"detail": message, "code": "locked_out", "errors": {}}, status=429
        )
    return render(request, "accounts/locked_out.html", {"message": message}, status=429)


def _count(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def allow_account_email(*, address: str, client: str | None) -> bool:
    """True when one more password-reset/verification e-mail may go to `address`
    for `client` (its IP), counting it. Past ACCOUNT_EMAILS_PER_ADDRESS per
    address or ACCOUNT_EMAILS_PER_CLIENT per client within
    ACCOUNT_EMAILS_WINDOW_SECONDS: False, and the caller answers as usual but
    sends nothing. Counters live in the cache shared by the web processes
    (CACHE_URL)."""
    window = int(settings.ACCOUNT_EMAILS_WINDOW_SECONDS)
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    if _count(f"patolab:account-emails:to:{digest}", window) > int(
        settings.ACCOUNT_EMAILS_PER_ADDRESS
    ):
        return False
    return not (
        client
        and _count(f"patolab:account-emails:from:{client}", window)
        > int(settings.ACCOUNT_EMAILS_PER_CLIENT)
    )
