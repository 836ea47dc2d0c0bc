from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from .models import DailyStatistics

if TYPE_CHECKING:
    # ModelAdmin is generic only in django-stubs; at runtime it takes no arguments.
    BaseAdmin = admin.ModelAdmin[DailyStatistics]
else:
    BaseAdmin = admin.ModelAdmin


@admin.register(DailyStatistics)
class DailyStatisticsAdmin(BaseAdmin):
    """Read-only: rows are written by the daily task and the recompute job."""

    list_display = ("date", "computed_at")
    date_hierarchy = "date"
    readonly_fields = ("date", "figures", "computed_at")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
