"""Report events on the protocol timeline: amendments with their reason
(registered with the protocols app in ReportsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from patolab.protocols.models import Protocol
from patolab.protocols.selectors import TimelineEvent

from .selectors import FINAL_REPORT_STATUSES, report_versions_for


def report_timeline_events(*, protocol: Protocol, user: Any) -> list[TimelineEvent]:
    """One event per amendment the user may see: veterinarians see finalized
    amendments only; lab roles also see an amendment still in draft."""
    versions = report_versions_for(user=user, protocol=protocol)
    numbers = {v.pk: v.version for v in versions}
    events = []
    for report in versions:
        if report.supersedes_id is None:
            continue
        old = numbers.get(report.supersedes_id, report.version - 1)
        note = _("Motivo: %(reason)s") % {"reason": report.amendment_reason}
        if report.status in FINAL_REPORT_STATUSES:
            events.append(
                TimelineEvent(
                    at=report.finalized_at or report.updated_at,
                    title=_(
                        "Informe enmendado: la versión %(new)s reemplaza a la "
                        "versión %(old)s"
                    )
                    % {"new": report.version, "old": old},
                    note=note,
                    by=report.histopathologist.display_name,
                    kind="amendment",
                )
            )
        else:
            events.append(
                TimelineEvent(
                    at=report.created_at,
                    title=_("Enmienda en curso: versión %(new)s (borrador)")
                    % {"new": report.version},
                    note=note,
                    by=report.histopathologist.display_name,
                    kind="amendment",
                )
            )
    return events
