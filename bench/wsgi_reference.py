"""The same-run reference of the web server bench: the smallest WSGI app,
served by the same gunicorn configuration and hammered by the same client, so
a reader can tell the machine's state (2 shared cores) from Patolab's cost."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b'{"ok": true}'


def application(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))],
    )
    return [BODY]
