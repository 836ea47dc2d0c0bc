"""Signing cost per report PDF (issue 12): PDF/A parts + PAdES signature added
to an already rendered 3-page report, with the demo RSA-2048 key and, for
comparison, an ECDSA P-256 key; and the validation of an uploaded signed PDF
(the public verification page). No database: key material lives in a temp dir.

The key is loaded once per process (as in the workers); every figure is per
document.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import report, setup_django

ROUNDS = int(os.environ.get("BENCH_SIGN_ROUNDS", "200"))
PARAGRAPH = (
    "Se observa una proliferación neoplásica de células redondas dispuestas en "
    "cordones y láminas, con citoplasma granular y núcleos centrales; índice "
    "mitótico bajo (1 mitosis en 10 campos de gran aumento), edema y eosinófilos. "
) * 5


def sample_pdf() -> bytes:
    from patolab.reports.pdf import ReportPdfData, render_report

    fields = {f.name for f in dataclasses.fields(ReportPdfData)}
    values = {
        "lab_name": "Laboratorio de Patología Veterinaria",
        "protocol_number": "HP 26/001",
        "analysis_type": "Histopatología",
        "version": 1,
        "report_date": date(2026, 11, 30),
        "verification_url": "http://127.0.0.1:8000/verify/0b3c/",
        "verification_id": "0b3c",
        "species": "Canino",
        "breed": "Ovejero alemán",
        "sex": "Macho",
        "age": "7 años",
        "animal_name": "Ñandú",
        "owner_name": "José Pérez",
        "sampling_date": date(2026, 11, 20),
        "received_date": date(2026, 11, 21),
        "material": "Nódulo cutáneo",
        "clinical_history": PARAGRAPH,
        "presumptive_diagnosis": "Mastocitoma",
        "veterinarian_name": "Dra. Vet",
        "veterinarian_license": "MP 1234",
        "veterinarian_locality": "La Plata",
        "macroscopic": PARAGRAPH,
        "microscopic": "\n\n".join([PARAGRAPH] * 4),
        "diagnosis": "Mastocitoma cutáneo grado II; márgenes libres.",
        "comments": PARAGRAPH,
        "histopathologist_name": "Dra. Paula Patóloga",
    }
    return render_report(
        ReportPdfData(**{k: v for k, v in values.items() if k in fields})
    )


def ecdsa_pkcs12(folder: Path) -> Path:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench ECDSA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path = folder / "ecdsa.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"b", key, cert, None, serialization.NoEncryption()
        )
    )
    return path


def measure(unsigned: bytes, label: str) -> bytes:
    from django.utils import timezone

    from patolab.core.pdf.pdfa import DocumentInfo
    from patolab.core.pdf.signing import sign_pdf, signing_identity

    signing_identity()  # load the key outside the timed loop (once per process)
    samples = []
    cpu = []
    signed = b""
    for i in range(ROUNDS + 10):
        now = timezone.now().replace(microsecond=0)
        start = time.perf_counter()
        start_cpu = time.process_time()
        signed = sign_pdf(
            unsigned,
            info=DocumentInfo(
                title="Informe HP 26/001 v1",
                author="Laboratorio",
                subject="Informe HP 26/001",
                created=now,
                modified=now,
            ),
            reason="Informe HP 26/001 v1 firmado por Dra. Paula Patóloga",
            contact="Dra. Paula Patóloga",
        ).data
        if i >= 10:
            samples.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
    report(f"sign one report PDF (PDF/A + PAdES, {label})", samples, "<= 10 ms")
    # CPU time of this process: what a worker pays per report, independent of
    # other processes competing for the cores of a shared machine.
    report(f"  same, CPU time of the signing process ({label})", cpu, "<= 10 ms")
    return signed


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="signing-bench-"))
    os.environ["SIGNING_DEMO_DIR"] = str(folder / "demo")
    for name in ("SIGNING_PKCS12_FILE", "SIGNING_PKCS12", "SIGNING_TSA_URL"):
        os.environ.pop(name, None)
    setup_django()
    from django.conf import settings

    from patolab.core.pdf.signing import signature_check, signing_identity

    unsigned = sample_pdf()
    print(f"signing: rounds={ROUNDS} unsigned report {len(unsigned)} bytes")
    start = time.perf_counter()
    signing_identity()
    print(
        f"  first use: demo CA + RSA-2048 lab key created in {time.perf_counter() - start:.2f} s"
    )
    signed = measure(unsigned, "RSA-2048")
    print(f"  signed size {len(signed)} bytes (+{len(signed) - len(unsigned)})")

    samples = []
    for _ in range(max(20, ROUNDS // 5)):
        start = time.perf_counter()
        assert signature_check(signed).status == "valid"
        samples.append((time.perf_counter() - start) * 1000)
    report("validate an uploaded signed PDF (verification page)", samples, "info")

    settings.SIGNING_PKCS12_FILE = str(ecdsa_pkcs12(folder))
    settings.SIGNING_PASSPHRASE = ""
    signing_identity.cache_clear()
    measure(unsigned, "ECDSA P-256, see README on ECDSA")


if __name__ == "__main__":
    main()
