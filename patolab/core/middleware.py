"""Request middleware shared by every app."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

logger = logging.getLogger(__name__)


def _normalize(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def language_for(request: HttpRequest) -> str:
    """The language chosen with the switcher (the `set_language` cookie) when it is
    one of settings.LANGUAGES, settings.LANGUAGE_CODE otherwise.

    Accept-Language is ignored on purpose: the lab works in Spanish, and a browser
    set to English would otherwise get Django's built-in strings (form errors,
    admin) in English mixed with our Spanish pages. English is for those who ask.
    """
    chosen = _normalize(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""))
    available = {_normalize(code): code for code, _name in settings.LANGUAGES}
    return available.get(chosen, settings.LANGUAGE_CODE)


class PreferredLanguageMiddleware:
    """Replaces django.middleware.locale.LocaleMiddleware: one language per request,
    from the switcher cookie only (no Accept-Language, no URL prefix)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        language = language_for(request)
        # override() restores the previous language afterwards, so a request never
        # leaks its language into code that runs later on the same thread.
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        # The same URL renders differently per cookie: shared caches must know.
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


# ---------------------------------------------------------------- hostile input
API_PREFIX = "/api/"
# Multipart bodies may carry an upload (the verification page) plus form fields.
MULTIPART_SLACK_BYTES = 64 * 1024


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_response(
    request: HttpRequest, status: int, detail: str, code: str
) -> HttpResponse:
    """The API's JSON error body under /api/, a Spanish error page elsewhere."""
    if is_api_request(request):
        return JsonResponse(
            {"detail": detail, "code": code, "errors": {}}, status=status
        )
    return render(
        request,
        "error.html",
        {"status": status, "message": detail},
        status=status,
    )


def body_limit(request: HttpRequest) -> int:
    """Largest body accepted for this request, in bytes (settings)."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/form-data"):
        return int(settings.UPLOAD_MAX_BYTES) + MULTIPART_SLACK_BYTES
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info:
        return True
    raw = request.META.get("QUERY_STRING", "")
    if "%00" in raw or "\x00" in raw:
        return True
    return any("\x00" in key or "\x00" in value for key, value in request.GET.items())


class RequestGuardMiddleware:
    """Refuses hostile requests before any view, form or query sees them, and
    keeps every error under /api/ in the API's JSON format (DEBUG on or off).

    - A NUL byte in the path or query string: 400 (PostgreSQL text cannot hold
      one; the query would fail with a 500 deep inside a list).
    - A declared body larger than the limits in settings (REQUEST_MAX_BYTES,
      UPLOAD_MAX_BYTES for multipart): 413, decided from Content-Length before a
      single byte of the body is read (nothing is spooled to disk).
    - Under /api/: an error answered by Django rather than the API (unknown
      path, wrong method, an exception outside the API's handlers) becomes
      `{"detail", "code", "errors"}` with the same status; a crash is a JSON 500
      without internals (the traceback goes to the log only).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        refused = self.refuse(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if is_api_request(request) and response.status_code >= 400:
            return self.as_api_error(request, response)
        return response

    def refuse(self, request: HttpRequest) -> HttpResponse | None:
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return error_response(
                request, 400, _("Solicitud inválida."), "invalid_request"
            )
        if length > body_limit(request):
            return error_response(
                request,
                413,
                _("El cuerpo de la solicitud es demasiado grande (máx. %(mb)s MB).")
                % {"mb": round(body_limit(request) / 1024 / 1024, 1)},
                "too_large",
            )
        if has_nul(request):
            return error_response(
                request,
                400,
                _("La solicitud contiene caracteres no permitidos."),
                "invalid_characters",
            )
        return None

    def as_api_error(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        detail, code = API_STATUS_ERRORS.get(
            status, (_("Error en la solicitud."), "error")
        )
        json = error_response(request, status, str(detail), code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                json[header] = response[header]
        return json

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not is_api_request(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return error_response(
                request,
                413,
                _("El cuerpo de la solicitud es demasiado grande."),
                "too_large",
            )
        if isinstance(exception, SuspiciousOperation):
            return error_response(
                request, 400, _("Solicitud inválida."), "invalid_request"
            )
        if isinstance(exception, Http404):
            return error_response(request, 404, _("No encontrado."), "not_found")
        if isinstance(exception, PermissionDenied):
            return error_response(request, 403, _("No tiene permiso."), "forbidden")
        logger.error(
            "unhandled error in %s %s",
            request.method,
            request.path,
            exc_info=exception,
        )
        return error_response(
            request, 500, _("Error interno. Intente nuevamente."), "server_error"
        )


API_STATUS_ERRORS = {
    400: (_lazy("Solicitud inválida."), "invalid_request"),
    401: (_lazy("Se requiere autenticación."), "not_authenticated"),
    403: (_lazy("No tiene permiso."), "forbidden"),
    404: (_lazy("No encontrado."), "not_found"),
    405: (_lazy("Método no permitido."), "method_not_allowed"),
    413: (_lazy("El cuerpo de la solicitud es demasiado grande."), "too_large"),
    500: (_lazy("Error interno. Intente nuevamente."), "server_error"),
}
