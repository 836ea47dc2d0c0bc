"""Indexes the daily aggregates need on other apps' tables.

The statistics app owns them because only its queries use them (each figure of
a day is a range scan on one of these timestamps); keeping them here leaves the
domain apps' migrations alone. `IF NOT EXISTS` works on PostgreSQL and SQLite.
"""

from django.db import migrations

INDEXES = [
    ("stats_protocol_report_sent", "protocols_protocol", "report_sent_at"),
    (
        "stats_history_status_changed",
        "protocols_protocolstatushistory",
        "to_status, changed_at",
    ),
    (
        "stats_history_protocol_changed",
        "protocols_protocolstatushistory",
        "protocol_id, changed_at",
    ),
    ("stats_report_finalized", "reports_report", "finalized_at"),
    ("stats_workorder_issued", "workorders_workorder", "issued_at"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_daily_statistics"),
        ("protocols", "0001_initial"),
        ("reports", "0001_initial"),
        ("workorders", "0002_workorderpdf"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
