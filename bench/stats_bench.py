"""Daily statistics at scale: one day's aggregates with 1,000,000 protocols in
PostgreSQL, and the statistics page over 365 stored days.

The million protocols (with their status history, reports and work orders) are
inserted with generate_series inside one transaction that is rolled back at the
end: nothing is left behind and concurrent benchmarks never see the rows.
PostgreSQL only (the embedded SQLite default is not the scale target).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import report, setup_django

PROTOCOLS = int(os.environ.get("BENCH_STATS_PROTOCOLS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_STATS_ROUNDS", "7"))
PAGE_ROUNDS = int(os.environ.get("BENCH_STATS_PAGE_ROUNDS", "30"))
DAYS_OF_HISTORY = 1000


class Rollback(Exception):
    pass


def insert_rows(cursor, vet_id: int, pathologist_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """~1,000 protocols a day over 1,000 days ending yesterday: 2 % rejected,
    the rest received and, once 2-8 days have passed, reported and sent."""
    from django.utils import timezone

    from patolab.stats.selectors import day_bounds

    yesterday_end = day_bounds(timezone.localdate() - timedelta(days=1))[1]
    now = timezone.now()
    cursor.execute(
        """
        CREATE TEMP TABLE bench_p ON COMMIT DROP AS
        SELECT g AS n,
               CASE WHEN g %% 3 = 0 THEN 'cytology' ELSE 'histopathology' END AS t,
               %(end)s::timestamptz - ((g %% %(days)s) + 1) * interval '1 day'
                 + interval '8 hours' + (g %% 600) * interval '1 minute' AS rec,
               g %% 50 = 7 AS rejected,
               (2 + g %% 7) * interval '1 day' + (g %% 300) * interval '1 minute' AS tat
        FROM generate_series(1, %(n)s) AS g
        """,
        {"end": yesterday_end, "days": DAYS_OF_HISTORY, "n": PROTOCOLS},
    )
    cursor.execute(
        """
        INSERT INTO protocols_protocol (
          analysis_type, status, temporary_code, protocol_number, veterinarian_id,
          species, breed, sex, age, animal_name, owner_name, presumptive_diagnosis,
          clinical_history, sample_description, sampling_date, academic_interest,
          technique, sampling_site, slides, material_submitted, containers,
          preservation, submitted_at, received_at, report_sent_at,
          rejection_reason, created_at, updated_at)
        SELECT t,
          CASE WHEN rejected THEN 'rejected'
               WHEN rec + tat < %(now)s THEN 'report_sent' ELSE 'processing' END,
          'BENCH-' || n, CASE WHEN rejected THEN NULL ELSE 'BENCH ' || n END, %(vet)s,
          'Canino', 'Mestizo', 'unknown', '7 años', 'Animal ' || n, 'Propietario', '',
          '', '', (rec - interval '2 days')::date, false,
          '', '', 1, '', 1, 'Formol 10 %%', rec - interval '1 day',
          CASE WHEN rejected THEN NULL ELSE rec END,
          CASE WHEN NOT rejected AND rec + tat < %(now)s THEN rec + tat END,
          '', rec, rec
        FROM bench_p ORDER BY n
        """,
        {"now": now, "vet": vet_id},
    )
    cursor.execute(
        """
        INSERT INTO protocols_protocolstatushistory
          (protocol_id, from_status, to_status, changed_at, note)
        SELECT id, 'submitted',
               CASE WHEN status = 'rejected' THEN 'rejected' ELSE 'received' END,
               COALESCE(received_at, submitted_at + interval '1 hour'), ''
        FROM protocols_protocol WHERE temporary_code LIKE 'BENCH-%%'
        UNION ALL
        SELECT id, 'received', status,
               COALESCE(report_sent_at, received_at + interval '1 hour'), ''
        FROM protocols_protocol
        WHERE temporary_code LIKE 'BENCH-%%' AND status <> 'rejected'
        """
    )
    cursor.execute(
        """
        INSERT INTO reports_report (
          protocol_id, version, status, macroscopic, microscopic, diagnosis,
          comments, histopathologist_id, verification_id, amendment_reason,
          pdf_file, pdf_sha256, created_at, updated_at, finalized_at, sent_at)
        SELECT id, 1, 'sent', '', '', 'Diagnóstico', '',
               (ARRAY[%(p)s])[1 + id %% %(np)s], gen_random_uuid(), '', '', '',
               report_sent_at - interval '1 hour', report_sent_at,
               report_sent_at - interval '10 minutes', report_sent_at
        FROM protocols_protocol
        WHERE temporary_code LIKE 'BENCH-%%' AND report_sent_at IS NOT NULL
        """.replace(
            "ARRAY[%(p)s]", "ARRAY[" + ",".join(map(str, pathologist_ids)) + "]"
        ),
        {"np": len(pathologist_ids)},
    )
    cursor.execute(
        """
        INSERT INTO workorders_workorder (
          number, veterinarian_id, status, payment_status, billing_name, cuit,
          tax_condition, advance_payment, notes, subtotal, discount_total,
          tax_total, total, created_at, updated_at, issued_at)
        SELECT 'BENCH-OT-' || n, %(vet)s, 'issued', 'pending', 'Clínica', '',
               'consumidor_final', 0, '', 62000, 0, 0, 62000 + n %% 1000, rec, rec,
               rec + interval '2 hours'
        FROM bench_p WHERE n %% 10 = 0
        """,
        {"vet": vet_id},
    )
    cursor.execute("ANALYZE protocols_protocol")
    cursor.execute("ANALYZE protocols_protocolstatushistory")
    cursor.execute("ANALYZE reports_report")
    cursor.execute("ANALYZE workorders_workorder")


def main() -> int:
    setup_django()
    from django.db import connection, transaction
    from django.test import RequestFactory
    from django.utils import timezone

    from patolab.accounts.models import Role, User
    from patolab.accounts.services import user_create, veterinarian_create
    from patolab.stats.models import DailyStatistics
    from patolab.stats.selectors import daily_statistics_compute, statistics_chart_data
    from patolab.stats.views import statistics_page

    if connection.vendor != "postgresql":
        print("  skipped: needs PostgreSQL (DATABASE_URL)")
        return 0
    print(f"  load average before: {os.getloadavg()}")
    try:
        with transaction.atomic():
            tag = f"bench{os.getpid()}"
            vet = veterinarian_create(
                username=f"{tag}vet",
                password="bench-secreto-1",
                full_name="Bench Vet",
                email=f"{tag}@vet.example",
                license_number="MP 1",
                phone="1",
                locality="La Plata",
            )
            pathologists = [
                user_create(
                    username=f"{tag}p{i}",
                    password="bench-secreto-1",
                    role=Role.HISTOPATHOLOGIST,
                    email=f"{tag}p{i}@lab.example",
                    first_name=f"Patólogo {i}",
                )
                for i in range(3)
            ]
            admin = user_create(
                username=f"{tag}admin",
                password="bench-secreto-1",
                role=Role.ADMIN,
                email=f"{tag}a@lab.example",
            )
            started = time.perf_counter()
            with connection.cursor() as cursor:
                insert_rows(cursor, vet.pk, [p.pk for p in pathologists])
                cursor.execute(
                    "SELECT count(*) FROM protocols_protocol"
                    " WHERE temporary_code LIKE 'BENCH-%%'"
                )
                inserted = cursor.fetchone()[0]
            print(
                f"  inserted {inserted:,} protocols (+ history, reports, work orders)"
                f" in {time.perf_counter() - started:.1f} s (not part of any figure)"
            )

            yesterday = timezone.localdate() - timedelta(days=1)
            old_day = yesterday - timedelta(days=DAYS_OF_HISTORY // 2)
            daily_statistics_compute(day=yesterday)  # warm the caches
            figures = daily_statistics_compute(day=yesterday)
            print(
                f"  yesterday: received {figures['protocols_received']},"
                f" completed {figures['protocols_completed']},"
                f" in progress {figures['work_in_progress_total']},"
                f" finalized {figures['reports_finalized']}"
            )
            samples = []
            for _ in range(ROUNDS):
                t0 = time.perf_counter()
                daily_statistics_compute(day=yesterday)
                samples.append((time.perf_counter() - t0) * 1000)
            report("daily statistics, yesterday, 1M protocols", samples, "<= 1000 ms")
            samples = []
            for _ in range(3):
                t0 = time.perf_counter()
                daily_statistics_compute(day=old_day)
                samples.append((time.perf_counter() - t0) * 1000)
            report(
                f"daily statistics, {DAYS_OF_HISTORY // 2} days ago (recompute)",
                samples,
                "(no target)",
            )
            # Same-run reference: one sequential scan of the protocol table.
            samples = []
            for _ in range(3):
                t0 = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM protocols_protocol WHERE breed <> ''"
                    )
                samples.append((time.perf_counter() - t0) * 1000)
            report("reference: seq scan count(*) of 1M protocols", samples, "-")

            # 365 stored days (a copy of yesterday's figures each) and the page.
            stored = {k: v for k, v in figures.items() if k not in ("date", "stored")}
            DailyStatistics.objects.filter(
                date__gt=yesterday - timedelta(days=365)
            ).delete()
            DailyStatistics.objects.bulk_create(
                DailyStatistics(
                    date=yesterday - timedelta(days=i),
                    figures=stored,
                    computed_at=timezone.now(),
                )
                for i in range(365)
            )
            factory = RequestFactory()
            samples = []
            for i in range(PAGE_ROUNDS + 3):
                request = factory.get("/estadisticas/", {"days": "365"})
                request.user = admin
                t0 = time.perf_counter()
                response = statistics_page(request)
                elapsed = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200
                if i >= 3:
                    samples.append(elapsed)
            report(
                "statistics page, 365 stored days (view + template)",
                samples,
                "<= 50 ms",
            )
            samples = []
            for _ in range(PAGE_ROUNDS):
                t0 = time.perf_counter()
                statistics_chart_data(days=365)
                samples.append((time.perf_counter() - t0) * 1000)
            report("  of which chart series from 365 rows", samples, "-")
            assert User.objects.filter(pk=admin.pk).exists()
            raise Rollback
    except Rollback:
        pass
    # The rolled-back million leaves dead rows behind: reclaim them now so the
    # next benchmarks scan a table of their own size.
    with connection.cursor() as cursor:
        for table in (
            "protocols_protocol",
            "protocols_protocolstatushistory",
            "reports_report",
            "workorders_workorder",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  load average after: {os.getloadavg()}  (rows rolled back)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
