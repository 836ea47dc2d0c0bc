from __future__ import annotations

from celery import shared_task

from .services import export_cleanup_expired


@shared_task(name="patolab.exports.cleanup", acks_late=True, reject_on_worker_lost=True)
def exports_cleanup() -> dict[str, int]:
    """Beat (hourly): delete expired export files and mark them expired.
    Idempotent: an export already marked is skipped."""
    return export_cleanup_expired()
