"""Home-page panels per role. Apps contribute panels by registering a function;
core never imports the domain apps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Panel = Callable[[Any], dict[str, Any] | None]
_PANELS: list[Panel] = []


def register_panel(func: Panel) -> Panel:
    _PANELS.append(func)
    return func


def dashboard_for(user: Any) -> dict[str, Any]:
    panels = [p for p in (panel(user) for panel in _PANELS) if p]
    return {"panels": panels}
