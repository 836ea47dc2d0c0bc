"""E-mail pipeline: render + queue one e-mail, and deliver one to a local SMTP
server (aiosmtpd), measured on the configured database. Everything written is
rolled back at the end.

- queue: `emails.protocol_received` (render the three templates + insert the
  EmailLog row); a bulk action of 500 protocols does this 500 times;
- deliver: `email_log_deliver` (claim, build, SMTP round trip, mark sent).
"""

from __future__ import annotations

import os
import time

from common import SmtpSink, report, setup_django

N = int(os.environ.get("BENCH_EMAILS", "300"))


class Rollback(Exception):
    pass


def main() -> None:
    setup_django()
    import datetime as dt

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from patolab.accounts.services import veterinarian_create
    from patolab.notifications import emails
    from patolab.notifications.services import email_log_deliver
    from patolab.protocols.models import Protocol

    sink = SmtpSink()
    port = sink.port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"emails: db={engine} n={N}")
    queue_ms: list[float] = []
    deliver_ms: list[float] = []
    try:
        with transaction.atomic():
            vet = veterinarian_create(
                username="bench_vet_emails",
                password="x-bench-password-1",
                full_name="Bench Vet",
                email="bench@vet.example",
            )
            protocol = Protocol.objects.create(
                analysis_type="histopathology",
                temporary_code="TMP-HP-BENCH-EMAILS",
                protocol_number="HP 99/999",
                veterinarian=vet,
                species="Canino",
                animal_name="Bench",
                sampling_date=dt.date(2026, 1, 1),
                submitted_at=timezone.now(),
            )
            logs = []
            for i in range(N):
                start = time.perf_counter()
                logs.append(emails.protocol_received(protocol=protocol, tag=f"b{i}"))
                queue_ms.append((time.perf_counter() - start) * 1000)
            for log in logs:
                start = time.perf_counter()
                assert email_log_deliver(email_log_id=log.pk).outcome == "sent"
                deliver_ms.append((time.perf_counter() - start) * 1000)
            raise Rollback
    except Rollback:
        pass
    finally:
        sink.stop()
    report("queue one e-mail (render 3 templates + EmailLog row)", queue_ms, "< 10 ms")
    report(
        "deliver one e-mail to local SMTP (claim, send, mark sent)",
        deliver_ms,
        "< 50 ms",
    )
    print(
        f"  500-protocol bulk notify, queueing only: ~{sum(queue_ms) / N * 500 / 1000:.2f} s"
    )


if __name__ == "__main__":
    main()
