"""Public protocol services (see STYLE.md: services write, selectors read)."""

from .status import (
    TRANSITIONS,
    protocol_allowed_transitions,
    protocol_can_transition,
    protocol_transition,
)

__all__ = [
    "TRANSITIONS",
    "protocol_allowed_transitions",
    "protocol_can_transition",
    "protocol_transition",
]
