from __future__ import annotations

from typing import Any

from .models import EmailLog


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def email_log_to_dict(log: EmailLog) -> dict[str, Any]:
    return {
        "id": log.pk,
        "kind": log.kind,
        "protocol_id": log.protocol_id,
        "protocol_number": log.protocol.code if log.protocol is not None else None,
        "related": log.related,
        "recipient": log.recipient,
        "subject": log.subject,
        "status": log.status,
        "attempts": log.attempts,
        "last_error": log.last_error or None,
        "attachments": [a.get("filename") for a in log.attachments],
        "message_id": log.message_id or None,
        "created_at": _iso(log.created_at),
        "sent_at": _iso(log.sent_at),
    }
