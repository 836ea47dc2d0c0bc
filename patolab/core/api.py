"""API building blocks: auth, the error format and pagination (API.md conventions)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth
from pydantic import ConfigDict

from patolab.accounts.models import User
from patolab.accounts.permissions import require_role
from patolab.accounts.services import api_token_authenticate

from .errors import DomainError, ValidationFailed

T = TypeVar("T")
MAX_PAGE_SIZE = 200
# Pages past this are refused (400) before they reach the database as an OFFSET
# (a huge page number overflowed PostgreSQL's bigint: a 500).
MAX_PAGE = 1_000_000
logger = logging.getLogger(__name__)


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(key=token)
        if user is not None:
            request.user = user
        return user


class RoleBearerAuth(BearerAuth):
    """Bearer auth that also requires one of `roles` (admins always pass), so a
    wrong role is a 403 before the body is even parsed (no 400 first)."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        super().__init__()
        self.roles = roles

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = super().authenticate(request, token)
        if user is not None:
            require_api_role(user, self.roles)
        return user


class RoleSessionAuth(SessionAuth):
    def __init__(self, roles: tuple[str, ...]) -> None:
        super().__init__()
        self.roles = roles

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user:
            require_api_role(user, self.roles)
        return user


def require_api_role(user: Any, roles: tuple[str, ...]) -> None:
    # The one role check (admins always pass): the same 403 body as in handlers.
    require_role(user, *roles)


def role_auth(*roles: str) -> list[Any]:
    """`auth=` for an endpoint limited to some roles: authentication and the role
    check both run before the body is validated (API.md: 403 for a role)."""
    return [RoleBearerAuth(tuple(roles)), RoleSessionAuth(tuple(roles))]


def openapi_required(*names: str, **extra: Any) -> ConfigDict:
    """`model_config` of an input schema whose fields stay optional in pydantic,
    so that the service names every missing one in one 400 (API.md), while the
    OpenAPI document still lists the fields the service requires as required."""
    return ConfigDict(json_schema_extra={"required": list(names), **extra})


def error_body(
    detail: str, code: str, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"detail": detail, "code": code, "errors": errors or {}}


_PYDANTIC_MESSAGES = {
    "missing": "Este campo es obligatorio.",
    "int_parsing": "Debe ser un número entero.",
    "int_type": "Debe ser un número entero.",
    "float_parsing": "Debe ser un número.",
    "decimal_parsing": "Debe ser un número.",
    "bool_parsing": "Debe ser verdadero o falso.",
    "date_from_datetime_parsing": "Fecha inválida (AAAA-MM-DD).",
    "date_parsing": "Fecha inválida (AAAA-MM-DD).",
    "enum": "Valor no permitido.",
    "literal_error": "Valor no permitido.",
    "string_type": "Debe ser un texto.",
    "list_type": "Debe ser una lista.",
    "uuid_parsing": "Identificador inválido.",
    "greater_than_equal": "El valor es demasiado chico.",
    "less_than_equal": "El valor es demasiado grande.",
    "json_invalid": "El cuerpo no es JSON válido.",
}


def validation_errors(errors: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """Pydantic error list -> `{field: [Spanish messages]}`."""
    out: dict[str, list[str]] = {}
    for err in errors:
        loc = [
            str(part)
            for part in err.get("loc", ())
            if part not in ("body", "payload", "query", "path")
        ]
        field = ".".join(loc) or "__all__"
        message = _PYDANTIC_MESSAGES.get(
            err.get("type", ""), err.get("msg", "Valor inválido.")
        )
        out.setdefault(field, []).append(message)
    return out


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "Mensaje legible, en castellano."},
        "code": {"type": "string", "description": "Código estable para máquinas."},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "code", "errors"],
}
ERROR_DESCRIPTIONS = {
    "400": "Datos inválidos (incluye bytes NUL y números fuera de rango).",
    "401": "Sin autenticación o token inválido.",
    "403": "El rol no permite la operación.",
    "404": "No existe o no es suyo.",
    "409": "Transición de estado inválida o conflicto.",
    "413": "Cuerpo demasiado grande.",
    "429": "Demasiados intentos fallidos: ingreso bloqueado.",
}


class PatolabApi(NinjaAPI):
    """NinjaAPI whose OpenAPI document states every answer an operation can give:
    the declared successes (`success_statuses`: 201, 202, a PDF's 200/202/304)
    plus the error answers in the `{"detail", "code", "errors"}` format."""

    # {(method, path): {status: description}} set by config/api.py.
    success_statuses: dict[tuple[str, str], dict[str, str]] = {}

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = (
            ERROR_SCHEMA
        )
        error_ref = {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
            }
        }
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                extra = self.success_statuses.get((method, path))
                if extra:
                    ok = responses.get("200")
                    if "200" not in extra:
                        responses.pop("200", None)
                    for status, description in extra.items():
                        responses[status] = (
                            {**ok, "description": description}
                            if ok and status in {"200", "201"}
                            else {"description": description}
                        )
                for status in self.error_statuses(path, method, operation):
                    responses.setdefault(
                        status,
                        {"description": ERROR_DESCRIPTIONS[status], **error_ref},
                    )
        return schema

    @staticmethod
    def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
        # Bad input, oversized bodies and objects that do not exist (or are not
        # yours; referenced in the path, the query or the body): everywhere.
        statuses = ["400", "404", "413"]
        if operation.get("security"):
            statuses += ["401", "403"]
        if method in {"post", "patch", "put", "delete"}:
            statuses.append("409")
        if path.endswith("/auth/token"):
            statuses += ["401", "429"]
        return sorted(set(statuses))


def build_api(*, title: str, version: str, description: str = "") -> PatolabApi:
    api = PatolabApi(
        title=title,
        version=version,
        description=description,
        urls_namespace="api",
        auth=[BearerAuth(), SessionAuth()],
    )

    def respond(
        request: HttpRequest, status: int, body: dict[str, Any]
    ) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(DomainError)
    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return respond(
            request, exc.status_code, error_body(exc.message, exc.code, exc.errors)
        )

    @api.exception_handler(NinjaValidationError)
    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = validation_errors(exc.errors)
        return respond(
            request, 400, error_body(_("Datos inválidos."), "invalid", errors)
        )

    @api.exception_handler(AuthenticationError)
    def on_auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(
            request,
            401,
            error_body(_("Se requiere autenticación."), "not_authenticated"),
        )

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body(_("No encontrado."), "not_found"))

    @api.exception_handler(PermissionDenied)
    def on_403(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, error_body(_("No tiene permiso."), "forbidden"))

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {
            400: "invalid",
            401: "not_authenticated",
            403: "forbidden",
            404: "not_found",
        }
        return respond(
            request,
            exc.status_code,
            error_body(str(exc), code.get(exc.status_code, "error")),
        )

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(
            request,
            413,
            error_body(
                _("El cuerpo de la solicitud es demasiado grande."), "too_large"
            ),
        )

    @api.exception_handler(MultiPartParserError)
    def on_bad_body(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(
            request,
            400,
            error_body(_("El cuerpo de la solicitud no se puede leer."), "invalid"),
        )

    @api.exception_handler(SuspiciousOperation)
    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return respond(request, 400, error_body(_("Solicitud inválida."), "invalid"))

    @api.exception_handler(DataError)
    def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
        # Input the database cannot store (a NUL byte, a number out of range)
        # that got past validation: still bad input, never a 500.
        logger.warning("API input refused by the database: %s", exc)
        return respond(
            request,
            400,
            error_body(
                _("Los datos contienen caracteres o valores no permitidos."),
                "invalid",
            ),
        )

    @api.exception_handler(Exception)
    def on_bug(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A real bug: the traceback goes to the log, never to the client (also
        # with DEBUG on, where django-ninja would answer with the traceback).
        logger.error(
            "unhandled API error in %s %s", request.method, request.path, exc_info=exc
        )
        return respond(
            request,
            500,
            error_body(_("Error interno. Intente nuevamente."), "server_error"),
        )

    return api


def page_offset(*, page: int, page_size: int) -> tuple[int, int]:
    """(offset, limit) of a list page, the page size clamped to
    1..MAX_PAGE_SIZE; a page number out of range is a 400 (API.md)."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(
            _("Número de página fuera de rango (1 a %(max)s).") % {"max": MAX_PAGE},
            errors={"page": [_("Número de página fuera de rango.")]},
        )
    return (page - 1) * page_size, page_size


def page_envelope(
    request: HttpRequest,
    *,
    count: int,
    offset: int,
    limit: int,
    results: list[Any],
) -> dict[str, Any]:
    """API.md list envelope: `{"count", "next", "previous", "results"}` of
    the page at `offset` (from `page_offset`)."""
    page = offset // limit + 1

    def link(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        params["page_size"] = str(limit)
        return f"{request.path}?{urlencode(sorted(params.items()))}"

    return {
        "count": count,
        "next": link(page + 1) if offset + limit < count else None,
        "previous": link(page - 1) if page > 1 else None,
        "results": results,
    }


def paginate(
    request: HttpRequest,
    queryset: Any,
    serialize: Callable[[Any], T],
    *,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """API.md list envelope: `{"count", "next", "previous", "results"}`."""
    offset, limit = page_offset(page=page, page_size=page_size)
    count = queryset.count()
    items = list(queryset[offset : offset + limit])
    return page_envelope(
        request,
        count=count,
        offset=offset,
        limit=limit,
        results=[serialize(item) for item in items],
    )
