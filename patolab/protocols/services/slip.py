"""The submission slip: current file or the job that makes it (one pipeline)."""

from __future__ import annotations

from typing import Any

from patolab.core.documents import DocumentState, document_get_or_start

from ..documents import slip_assert_printable
from ..jobs import SLIP
from ..models import Protocol, SubmissionSlip


def protocol_slip_get_or_start(
    *, protocol: Protocol, user: Any
) -> DocumentState[SubmissionSlip]:
    """The current slip, or the job (re)generating it; asking again joins the
    same job. 409 `slip_unavailable` for a draft or a protocol already received.
    The caller has already checked that `user` may see the protocol."""
    slip_assert_printable(protocol)
    return document_get_or_start(SLIP, protocol, user=user)
