"""Writes to the audit trail that its signals cannot see."""

from __future__ import annotations

from collections.abc import Iterable

from auditlog.receivers import log_create
from auditlog.registry import auditlog
from django.db.models import Model


def audit_bulk_created(instances: Iterable[Model]) -> None:
    """Record the creation of rows inserted with `bulk_create` (which sends no
    post_save signal): one entry each, like a `save()` would have written.
    Rows of models the trail does not track are skipped."""
    for instance in instances:
        if instance.pk is not None and auditlog.contains(type(instance)):
            log_create(sender=type(instance), instance=instance, created=True)
