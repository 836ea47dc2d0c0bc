from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyStatistics(models.Model):
    """The figures of one local (lab time zone) day, computed once the day is
    over. Recomputing a date replaces its row; today's figures are never stored
    (they keep changing), the API computes them on the spot."""

    date = models.DateField(_("fecha"), unique=True)
    # The whole figure set as the API returns it (see selectors.STAT_FIELDS):
    # totals, breakdowns by analysis type, work in progress, turnaround,
    # per-histopathologist counts and revenue. One JSON document per day keeps
    # the page's 365-day read a single indexed range scan.
    figures = models.JSONField(_("cifras"), default=dict)
    computed_at = models.DateTimeField(_("calculado"))

    class Meta:
        verbose_name = _("estadística diaria")
        verbose_name_plural = _("estadísticas diarias")
        ordering = ["-date"]

    def __str__(self) -> str:
        return self.date.isoformat()

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.figures,
            "date": self.date.isoformat(),
            "stored": True,
            "computed_at": self.computed_at.isoformat(),
        }
