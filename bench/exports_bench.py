"""Exports at scale: 100,000 protocols to CSV and XLSX (query, writing, hashing
and storing included), and the peak RSS of the exporting process at 10,000 and
100,000 rows (flat means streamed).

The protocols are inserted with generate_series (received in 2031, a year no
other data uses, so the list's date filter picks exactly them) and deleted at
the end. Each export runs in a fresh child process so its peak RSS
(ru_maxrss) is its own. PostgreSQL only.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import setup_django

ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
ROUNDS = int(os.environ.get("BENCH_EXPORT_ROUNDS", "3"))
DAYS = 100  # ROWS spread over DAYS reception days of 2031
SMALL = ROWS // 10


def child(fmt: str, first: str, last: str, user_id: int) -> None:
    """One export in this process; print JSON with time and RSS."""
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="export-bench-")
    setup_django()
    from django.core.files.storage import default_storage

    from patolab.accounts.models import User
    from patolab.exports.services import export_file_write

    user = User.objects.get(pk=user_id)
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    params = {
        "dataset": "protocols",
        "format": fmt,
        "filters": {"received_from": first, "received_to": last},
        "separator": ",",
    }
    started = time.perf_counter()
    written = export_file_write(params=params, user=user, path=f"bench/export.{fmt}")
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    default_storage.delete(written.path)
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "rows": written.rows,
                "bytes": written.size,
                "baseline_mb": baseline_kb / 1024,
                "peak_mb": peak_kb / 1024,
            }
        )
    )


def run_child(fmt: str, first: str, last: str, user_id: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", fmt, first, last, str(user_id)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def seed(tag: str) -> int:
    from django.db import connection

    from patolab.accounts.models import Role
    from patolab.accounts.services import user_create, veterinarian_create

    vet = veterinarian_create(
        username=f"{tag}vet",
        password="bench-secreto-1",
        full_name="María Eugenia López Núñez",
        email=f"{tag}@vet.example",
        license_number="MP 3876",
        phone="1",
        locality="City Bell",
    )
    admin = user_create(
        username=f"{tag}admin",
        password="bench-secreto-1",
        role=Role.ADMIN,
        email=f"{tag}a@lab.example",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO protocols_protocol (
              analysis_type, status, temporary_code, protocol_number,
              veterinarian_id, species, breed, sex, age, animal_name, owner_name,
              presumptive_diagnosis, clinical_history, sample_description,
              sampling_date, academic_interest, technique, sampling_site, slides,
              material_submitted, containers, preservation, submitted_at,
              received_at, report_sent_at, rejection_reason, created_at, updated_at)
            SELECT CASE WHEN g %% 3 = 0 THEN 'cytology' ELSE 'histopathology' END,
              CASE WHEN g %% 4 = 0 THEN 'processing' ELSE 'report_sent' END,
              %(tag)s || '-' || g, %(tag)s || ' ' || g, %(vet)s,
              'Canino', 'Ovejero alemán', 'female', '7 años', 'Pichón ' || g,
              'José Pérez', 'Mastocitoma', 'Nódulo cutáneo de 2 cm', '',
              DATE '2030-12-31', false, '', '', 1, 'Nódulo cutáneo', 2, 'Formol 10 %%',
              r - interval '1 day', r,
              CASE WHEN g %% 4 = 0 THEN NULL ELSE r + interval '5 days' END,
              '', r, r
            FROM (SELECT g, TIMESTAMPTZ '2031-01-01 12:00:00-03'
                    + (g %% %(days)s) * interval '1 day'
                    + (g %% 500) * interval '1 minute' AS r
                  FROM generate_series(1, %(n)s) AS g) AS s
            """,
            {"tag": tag, "vet": vet.pk, "n": ROWS, "days": DAYS},
        )
        cursor.execute(
            """
            INSERT INTO reports_report (
              protocol_id, version, status, macroscopic, microscopic, diagnosis,
              comments, histopathologist_id, verification_id, amendment_reason,
              pdf_file, pdf_sha256, created_at, updated_at, finalized_at, sent_at)
            SELECT id, 1, 'sent', '', '',
                   'Mastocitoma cutáneo grado II (Patnaik), márgenes libres', '',
                   %(admin)s, gen_random_uuid(), '', '', '', received_at,
                   received_at, report_sent_at, report_sent_at
            FROM protocols_protocol
            WHERE veterinarian_id = %(vet)s AND report_sent_at IS NOT NULL
            """,
            {"admin": admin.pk, "vet": vet.pk},
        )
        cursor.execute("ANALYZE protocols_protocol")
        cursor.execute("ANALYZE reports_report")
    return admin.pk


def cleanup(tag: str) -> None:
    from django.db import connection

    from patolab.accounts.models import User

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM reports_report WHERE protocol_id IN (SELECT id FROM"
            " protocols_protocol WHERE temporary_code LIKE %s)",
            [f"{tag}-%"],
        )
        cursor.execute(
            "DELETE FROM protocols_protocol WHERE temporary_code LIKE %s", [f"{tag}-%"]
        )
    User.objects.filter(username__startswith=tag).delete()


def line(name: str, values: list[float], unit: str, target: str) -> None:
    median = statistics.median(values)
    print(
        f"  {name:<52} median {median:8.2f} {unit:<3} max {max(values):8.2f} {unit:<3}"
        f" target {target}"
    )


def writer_only() -> None:
    """Same-run reference without the database: the writers alone on ROWS
    synthetic rows of the protocol columns (CPU share of the machine now)."""
    from datetime import date, datetime
    from decimal import Decimal  # noqa: F401

    from django.utils import translation

    from patolab.exports.datasets import PROTOCOL_COLUMNS
    from patolab.exports.writers import write_csv, write_xlsx

    when = datetime(2031, 1, 5, 10, 30)
    row = (
        "HP 31/00042", "TMP-HP-20310104-001", "Histopatología", "Informe enviado",
        "María Eugenia López Núñez", "MP 3876", "City Bell", "Canino",
        "Ovejero alemán", "Hembra", "7 años", "Pichón 42", "José Pérez",
        date(2030, 12, 31), when, when, when, when, 5.0, "No", "Enviado",
        "Mastocitoma cutáneo grado II (Patnaik), márgenes libres", "OT-2031-0042",
    )  # fmt: skip
    with translation.override("es-ar"):
        for name, write in (("CSV", write_csv), ("XLSX", write_xlsx)):
            with tempfile.TemporaryFile() as out:
                t0 = time.perf_counter()
                write(out, PROTOCOL_COLUMNS, (row for _ in range(ROWS)))
                elapsed = time.perf_counter() - t0
            print(
                f"  reference: {name} writer alone, {ROWS:,} synthetic rows,"
                f" no database: {elapsed:.2f} s"
            )


def main() -> int:
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("  skipped: needs PostgreSQL (DATABASE_URL)")
        return 0
    tag = f"BX{os.getpid()}"
    print(f"  load average before: {os.getloadavg()}")
    started = time.perf_counter()
    admin_id = seed(tag)
    print(
        f"  inserted {ROWS:,} protocols with reports in"
        f" {time.perf_counter() - started:.1f} s (not part of any figure)"
    )
    # DAYS reception days hold ROWS protocols: the first tenth holds SMALL.
    small = ("2031-01-01", f"2031-01-{DAYS // 10:02d}")
    full = ("2031-01-01", "2031-12-31")
    try:
        results: dict[str, list[dict[str, float]]] = {}
        for fmt in ("csv", "xlsx"):
            for label, (first, last) in (("10k", small), ("100k", full)):
                runs = [run_child(fmt, first, last, admin_id) for _ in range(ROUNDS)]
                results[f"{fmt}-{label}"] = runs
        for fmt, target in (("csv", "<= 2 s"), ("xlsx", "<= 10 s")):
            runs = results[f"{fmt}-100k"]
            assert all(r["rows"] == ROWS for r in runs), runs
            line(
                f"export {ROWS:,} protocols, {fmt.upper()}, query included",
                [r["seconds"] for r in runs],
                "s",
                target,
            )
        for key in ("csv-10k", "csv-100k", "xlsx-10k", "xlsx-100k"):
            runs = results[key]
            line(
                f"peak RSS, {key} ({int(runs[0]['rows']):,} rows,"
                f" {runs[0]['bytes'] / 1e6:.1f} MB file)",
                [r["peak_mb"] for r in runs],
                "MB",
                "<= 100 MB, flat 10k -> 100k",
            )
        baseline = statistics.median(
            r["baseline_mb"] for runs in results.values() for r in runs
        )
        print(
            f"  reference: RSS of the same process before exporting {baseline:.1f} MB"
        )
        # Same-run reference: the bare query (no formatting, no file).
        with connection.cursor() as cursor:
            t0 = time.perf_counter()
            cursor.execute(
                "SELECT p.*, r.status, r.diagnosis FROM protocols_protocol p"
                " LEFT JOIN reports_report r ON r.protocol_id = p.id"
                " WHERE p.temporary_code LIKE %s",
                [f"{tag}-%"],
            )
            fetched = len(cursor.fetchall())
            print(
                f"  reference: fetch the {fetched:,} rows with one plain query"
                f" {time.perf_counter() - t0:.2f} s"
            )
        writer_only()
    finally:
        cleanup(tag)
    print(f"  load average after: {os.getloadavg()}  (rows deleted)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        sys.exit(0)
    sys.exit(main())
