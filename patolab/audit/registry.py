"""Which models the audit trail records, and the signal wiring.

Models are named by label (no imports of higher floors): this app sits with
`notifications` on floor 3 and registers the domain models by name when the
app registry is ready, as `jobs` sends tasks by name.
"""

from __future__ import annotations

import logging
from typing import Any

from auditlog.registry import auditlog
from auditlog.signals import pre_log
from celery.signals import task_postrun, task_prerun
from django.apps import apps
from django.db.models.signals import pre_save

from .context import AuditContext, _current, _instance, current
from .models import AuditEntry, Via

logger = logging.getLogger(__name__)

# label -> auditlog.register() options. Protocol status changes are recorded
# through ProtocolStatusHistory rows (who, from, to, note), so the status
# column itself is left out of the Protocol entries.
TRACKED: dict[str, dict[str, Any]] = {
    "protocols.Protocol": {"exclude_fields": ["updated_at", "status"]},
    "protocols.ProtocolStatusHistory": {},
    "protocols.Reception": {},
    "reports.Report": {"exclude_fields": ["updated_at"]},
    "workorders.WorkOrder": {"exclude_fields": ["updated_at"]},
    "workorders.WorkOrderLine": {},
    "workorders.WorkOrderProtocol": {},
    "workorders.PricingItem": {},
    "accounts.User": {
        "include_fields": [
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "is_active",
            "is_staff",
            "is_superuser",
        ]
    },
}
PROTOCOL_LABEL = "protocols.Protocol"


def register_tracked_models() -> None:
    for label, options in TRACKED.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            logger.warning("audit: model %s is not installed", label)
            continue
        if not auditlog.contains(model):
            auditlog.register(model, **options)


def protocol_id_of(instance: Any) -> int | None:
    if instance._meta.label == PROTOCOL_LABEL:
        return int(instance.pk) if instance.pk is not None else None
    value = getattr(instance, "protocol_id", None)
    return int(value) if value is not None else None


def _remember_instance(sender: Any, instance: Any, **kwargs: Any) -> None:
    _instance.set(instance)


def _fill_entry(sender: Any, instance: AuditEntry, **kwargs: Any) -> None:
    if instance.pk is not None:
        return
    context = current()
    if context is not None:
        instance.via = context.via
        if instance.remote_addr is None:
            instance.remote_addr = context.remote_addr
        if instance.actor_id is None:
            actor = context.actor()
            if actor is not None:
                instance.actor = actor
                instance.actor_email = getattr(actor, "email", None)
    subject = _instance.get()
    if subject is not None and instance.protocol_id is None:
        instance.protocol_id = protocol_id_of(subject)


def _job_actor(job_id: str) -> Any:
    def load() -> Any:
        job_model = apps.get_model("jobs", "Job")
        job = job_model.objects.filter(pk=job_id).select_related("requested_by").first()
        return job.requested_by if job is not None else None

    return load


_task_tokens: dict[str, Any] = {}


def _task_started(task_id: str | None = None, args: Any = None, **kwargs: Any) -> None:
    job_id = str(args[0]) if args else None
    context = AuditContext(
        via=Via.JOB, actor_loader=_job_actor(job_id) if job_id else None
    )
    _task_tokens[str(task_id)] = _current.set(context)


def _task_finished(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(str(task_id), None)
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # set in another context (thread pools)
            _current.set(None)


def connect_signals() -> None:
    pre_log.connect(_remember_instance, dispatch_uid="patolab.audit.instance")
    pre_save.connect(_fill_entry, sender=AuditEntry, dispatch_uid="patolab.audit.fill")
    task_prerun.connect(_task_started, dispatch_uid="patolab.audit.task_started")
    task_postrun.connect(_task_finished, dispatch_uid="patolab.audit.task_finished")
