"""Job kinds: `kind -> (handler, queue, retry policy)`.

Apps register their handlers in `<app>/jobs.py` (imported when the jobs app is
ready). A handler is a plain function `handler(job, progress) -> dict` that can be
tested without Celery; it must be idempotent, because a job may run twice after a
worker crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Job
    from .services import Progress

Handler = Callable[["Job", "Progress"], dict[str, Any]]


class TransientJobError(Exception):
    """Raised by a handler for an error worth retrying (network, storage)."""


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    queue: str = "default"
    # Exceptions that mean "try again later"; anything else fails the job at once.
    retry_on: tuple[type[BaseException], ...] = (TransientJobError,)
    max_attempts: int = 5
    title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_KINDS: dict[str, JobKind] = {}


def register(
    name: str,
    *,
    queue: str = "default",
    retry_on: tuple[type[BaseException], ...] = (),
    max_attempts: int = 5,
    title: str = "",
) -> Callable[[Handler], Handler]:
    def decorator(handler: Handler) -> Handler:
        _KINDS[name] = JobKind(
            name=name,
            handler=handler,
            queue=queue,
            retry_on=(TransientJobError, *retry_on),
            max_attempts=max_attempts,
            # Mark titles with gettext_noop at registration; kind_title()
            # translates them when shown.
            title=title or name,
        )
        return handler

    return decorator


def get_kind(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"unknown job kind {name!r}") from None


def kind_names() -> list[str]:
    """Every registered kind (the admin's filter lists them by title)."""
    return list(_KINDS)


def kind_title(name: str) -> str:
    """What people read for a job kind: its Spanish title, translated to the
    active language; never the dotted kind name."""
    from django.utils.translation import gettext

    spec = _KINDS.get(name)
    if spec is None or not spec.title or spec.title == name:
        return gettext("Trabajo en segundo plano")
    return gettext(spec.title)
