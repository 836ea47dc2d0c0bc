"""Public protocol services (see STYLE.md: services write, selectors read)."""

from .bulk import (
    protocol_bulk_status_run,
    protocol_bulk_status_start,
)
from .manual import protocol_status_change
from .numbering import counter_next, protocol_number_next, temporary_code_next
from .reception import (
    RECEIVE_BATCH_MAX,
    protocol_receive,
    protocol_receive_batch_run,
    protocol_receive_batch_start,
    protocol_reject,
)
from .slip import protocol_slip_get_or_start
from .status import (
    TRANSITIONS,
    protocol_advance,
    protocol_allowed_transitions,
    protocol_can_transition,
    protocol_transition,
)
from .submission import (
    SUBMISSION_FIELDS,
    protocol_cancel,
    protocol_create,
    protocol_save_draft,
    protocol_submit,
    protocol_validate_submission,
)

__all__ = [
    "RECEIVE_BATCH_MAX",
    "SUBMISSION_FIELDS",
    "TRANSITIONS",
    "counter_next",
    "protocol_advance",
    "protocol_allowed_transitions",
    "protocol_bulk_status_run",
    "protocol_bulk_status_start",
    "protocol_can_transition",
    "protocol_cancel",
    "protocol_create",
    "protocol_number_next",
    "protocol_receive",
    "protocol_receive_batch_run",
    "protocol_receive_batch_start",
    "protocol_reject",
    "protocol_save_draft",
    "protocol_slip_get_or_start",
    "protocol_status_change",
    "protocol_submit",
    "protocol_transition",
    "protocol_validate_submission",
    "temporary_code_next",
]
