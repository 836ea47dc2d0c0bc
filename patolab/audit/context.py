"""Who is acting and from where, for the audit entries written meanwhile.

A context variable set by the middleware (web, API, admin), by a Celery
signal around every task (job) and left unset elsewhere (system: commands,
shell). The actor is resolved only when an entry is written: API requests
authenticate inside the view (bearer tokens), and most requests write none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .models import Via


@dataclass
class AuditContext:
    via: str
    remote_addr: str | None = None
    # Returns the acting user (or None); called at most once per context.
    actor_loader: Callable[[], Any] | None = None
    _actor: Any = field(default=None, init=False)
    _loaded: bool = field(default=False, init=False)

    def actor(self) -> Any:
        if not self._loaded:
            self._actor = self.actor_loader() if self.actor_loader else None
            self._loaded = True
        return self._actor


_current: ContextVar[AuditContext | None] = ContextVar("patolab_audit", default=None)
# The instance auditlog is about to write an entry for (set by its pre_log
# signal, read while the entry is saved, in the same thread and call).
_instance: ContextVar[Any] = ContextVar("patolab_audit_instance", default=None)


def current() -> AuditContext | None:
    return _current.get()


@contextmanager
def audit_context(
    *,
    via: str,
    remote_addr: str | None = None,
    actor_loader: Callable[[], Any] | None = None,
) -> Iterator[AuditContext]:
    """Attribute the audit entries written inside the block."""
    context = AuditContext(via=via, remote_addr=remote_addr, actor_loader=actor_loader)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def via_for_path(path: str) -> str:
    if path.startswith("/api/"):
        return Via.API
    if path.startswith("/admin/"):
        return Via.ADMIN
    return Via.WEB
