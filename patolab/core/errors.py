"""Domain errors: a stable machine code, a Spanish message and an HTTP status.

Services raise these; the API renders them as `{"detail", "code", "errors"}` and
the HTML views show `message` next to the form or as a flash message.
"""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(
        self,
        message: str | Promise,
        *,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = str(message)
        if code:
            self.code = code
        self.errors = errors or {}


class ValidationFailed(DomainError):
    status_code = 400
    code = "invalid"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class NotAllowed(DomainError):
    status_code = 403
    code = "forbidden"
