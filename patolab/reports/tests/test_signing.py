"""Signed PDF/A-2b report PDFs (issue 12, sections 1 and 2): the stored file is
read back and checked with pyHanko (signature) and pypdf (PDF/A structure)."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
from pathlib import Path

import pypdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.files.storage import default_storage
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from patolab.core.files import sha256_hex
from patolab.core.pdf import signing
from patolab.core.pdf.signing import (
    DEMO_CA,
    DEMO_ORGANIZATION,
    DEMO_P12,
    signature_check,
    signing_identity,
)
from patolab.reports.models import ReportPdf
from patolab.reports.services import (
    report_amend,
    report_finalize_execute,
    report_regenerate_one,
    report_request_finalize,
    report_update_draft,
)

pytestmark = pytest.mark.django_db


def finalize(report, user):
    report_request_finalize(report=report, user=user)
    report_finalize_execute(report_id=report.pk, user_id=user.pk)
    report.refresh_from_db()
    return report


def stored_bytes(report) -> bytes:
    with default_storage.open(report.pdf_file, "rb") as handle:
        return handle.read()


def one_byte_changed(data: bytes) -> bytes:
    # A byte inside the first page's content stream: still a readable PDF,
    # but not the bytes that were signed.
    changed = bytearray(data)
    offset = data.index(b"stream\n", data.index(b"/Contents")) + 40
    changed[offset] ^= 0x01
    return bytes(changed)


@pytest.fixture
def demo_signing(settings, tmp_path):
    """A fresh demo identity in a temporary folder (nothing configured)."""
    settings.SIGNING_PKCS12_FILE = ""
    settings.SIGNING_PKCS12 = ""
    settings.SIGNING_DEMO_DIR = tmp_path / "signing"
    signing_identity.cache_clear()
    yield settings.SIGNING_DEMO_DIR
    signing_identity.cache_clear()


def test_a_finalized_report_pdf_is_signed_by_the_lab_and_validates(
    demo_signing, draft_report, pathologist
):
    report = finalize(draft_report, pathologist)
    data = stored_bytes(report)
    assert sha256_hex(data) == report.pdf_sha256

    reader = PdfFileReader(io.BytesIO(data))
    (embedded,) = reader.embedded_regular_signatures
    ca = x509.load_pem_x509_certificate((demo_signing / DEMO_CA).read_bytes())
    from asn1crypto import x509 as asn1_x509

    root = asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))
    status = validate_pdf_signature(
        embedded, ValidationContext(trust_roots=[root], allow_fetching=False)
    )
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.signing_cert.subject.native["organization_name"] == (
        DEMO_ORGANIZATION
    )
    # The signature names the finalizing pathologist as reason and contact.
    name = pathologist.get_full_name() or pathologist.username
    assert name in str(embedded.sig_object["/Reason"])
    assert name in str(embedded.sig_object["/ContactInfo"])
    # The printed signature block is still on the page.
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages
    )
    assert "Histopatólogo/a" in text

    stored = ReportPdf.objects.get(report=report)
    assert stored.signature_demo is True
    assert stored.signed_at is not None
    assert stored.signer


def test_the_demo_identity_files_are_owner_only(
    demo_signing, draft_report, pathologist
):
    finalize(draft_report, pathologist)
    assert stat.S_IMODE(os.stat(demo_signing).st_mode) == 0o700
    for name in (DEMO_P12, DEMO_CA, signing.DEMO_SECRET_NAME):
        assert stat.S_IMODE(os.stat(demo_signing / name).st_mode) == 0o600


def test_a_copy_with_one_byte_changed_fails_and_the_verification_page_says_so(
    demo_signing, draft_report, pathologist, client
):
    report = finalize(draft_report, pathologist)
    data = stored_bytes(report)
    assert signature_check(data).status == "valid"
    tampered = one_byte_changed(data)
    check = signature_check(tampered)
    assert check.status == "modified"
    assert check.intact is False

    url = reverse("verify", kwargs={"verification_id": report.verification_id})
    upload = io.BytesIO(tampered)
    upload.name = "informe.pdf"
    page = client.post(url, {"file": upload}).content.decode()
    assert "el documento fue modificado después de firmarse" in page
    assert "NO coincide con ningún PDF emitido" in page

    upload = io.BytesIO(data)
    upload.name = "informe.pdf"
    page = client.post(url, {"file": upload}).content.decode()
    assert "Firma digital válida" in page
    assert "Firma de demostración." in page  # the plain demo notice
    assert "no tiene validez legal" in page


def test_the_verify_api_gives_the_same_facts_for_an_upload(
    demo_signing, draft_report, pathologist, client
):
    report = finalize(draft_report, pathologist)
    data = stored_bytes(report)
    url = f"/api/v1/verify/{report.verification_id}"
    upload = io.BytesIO(one_byte_changed(data))
    upload.name = "x.pdf"
    body = client.post(url, {"file": upload}).json()
    assert body["match"] == "unknown"
    assert body["upload"]["signature"]["status"] == "modified"
    assert body["upload"]["signature"]["intact"] is False

    upload = io.BytesIO(data)
    upload.name = "x.pdf"
    body = client.post(url, {"file": upload}).json()
    assert body["match"] == "current"
    sig = body["upload"]["signature"]
    assert sig["status"] == "valid"
    assert sig["intact"]
    assert sig["valid"]
    assert sig["trusted"]
    assert sig["demo"] is True
    assert sig["signing_time"]
    assert sig["timestamp"] is None
    assert body["signature"]["signer"] == sig["signer"]

    unsigned = client.post(url, {"file": io.BytesIO(b"no pdf")})
    assert unsigned.status_code == 200
    assert unsigned.json()["upload"]["signature"]["status"] == "unreadable"


def test_amendment_and_regeneration_are_signed_and_old_pdfs_verify_as_superseded(
    demo_signing, draft_report, pathologist, admin, client
):
    v1 = finalize(draft_report, pathologist)
    v1_data = stored_bytes(v1)
    v2 = report_amend(report=v1, user=pathologist, reason="Corrige la edad")
    report_update_draft(report=v2, user=pathologist, comments="Comentario nuevo.")
    v2 = finalize(v2, pathologist)
    v2_first = stored_bytes(v2)
    assert signature_check(v2_first).status == "valid"

    # A regeneration after a template change: a new signed file, new hash.
    from patolab.reports import pdf as report_pdf

    original = report_pdf.render_report
    report_pdf_changed = lambda data: original(data) + b"\n% template v2\n"  # noqa: E731
    import patolab.reports.services as services

    services.render_report = report_pdf_changed
    try:
        assert report_regenerate_one(report_id=v2.pk) == "regenerated"
    finally:
        services.render_report = original
    v2.refresh_from_db()
    v2_now = stored_bytes(v2)
    assert signature_check(v2_now).status == "valid"
    assert sha256_hex(v2_now) != sha256_hex(v2_first)

    api_url = f"/api/v1/verify/{v1.verification_id}"
    for data, expected, version in (
        (v1_data, "superseded", 1),
        (v2_first, "superseded", 2),
        (v2_now, "current", 2),
    ):
        upload = io.BytesIO(data)
        upload.name = "x.pdf"
        body = client.post(api_url, {"file": upload}).json()
        assert body["match"] == expected
        assert body["upload"]["matched_version"] == version
        assert body["upload"]["signature"]["status"] == "valid"
    assert client.get(api_url).json()["current"] is False


def test_regenerating_an_unchanged_report_does_not_sign_again(
    demo_signing, draft_report, pathologist
):
    report = finalize(draft_report, pathologist)
    assert report_regenerate_one(report_id=report.pk) == "unchanged"
    assert ReportPdf.objects.filter(report=report).count() == 1


# ---------------------------------------------------------------- PDF/A-2b
def test_the_report_pdf_has_the_pdfa_2b_structure(
    demo_signing, draft_report, pathologist
):
    data = stored_bytes(finalize(draft_report, pathologist))
    reader = pypdf.PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]

    assert "/Encrypt" not in reader.trailer
    assert not reader.is_encrypted
    # PDF/A-2 is based on PDF 1.7 (an ECDSA signature would declare 2.0).
    assert str(root.get("/Version", "/1.7")) in {"/1.4", "/1.5", "/1.6", "/1.7"}

    metadata = root["/Metadata"].get_object()
    assert "/Filter" not in metadata  # PDF/A: the XMP packet stays readable
    xmp = metadata.get_data().decode()
    assert 'pdfaid:part="2"' in xmp or "<pdfaid:part>2</pdfaid:part>" in xmp
    assert 'pdfaid:conformance="B"' in xmp or (
        "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    )
    # One identification only, and Info agrees with XMP.
    assert xmp.count("pdfaid:part") == 1
    info = reader.trailer["/Info"].get_object()
    assert f'pdf:Producer="{info["/Producer"]}"' in xmp
    assert str(info["/Title"]) in xmp
    assert "/Keywords" not in info

    (intent,) = root["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object()
    icc = profile.get_data()
    assert profile["/N"] == 3
    assert icc[36:40] == b"acsp"
    assert icc[16:20] == b"RGB "

    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
    assert fonts
    for name, font in fonts.items():
        descriptor = font["/FontDescriptor"].get_object()
        embedded = {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor)
        assert embedded, f"{name} is not embedded"

    # No external references or active content. Compressed streams are
    # binary, so these long names can only come from object dictionaries.
    for forbidden in (b"/Launch", b"/GoToR", b"/JavaScript", b"/EmbeddedFiles"):
        assert forbidden not in data
    # The signature widget is printable and not hidden (PDF/A annotation rule).
    for annot in reader.pages[0].get("/Annots", []):
        flags = int(annot.get_object()["/F"])
        assert flags & 4  # print
        assert not flags & 2  # hidden


# ---------------------------------------------------------------- configuration
def make_pkcs12(folder: Path, passphrase: bytes) -> tuple[Path, Path]:
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Certificador Test")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Laboratorio Test SRL"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Laboratorio Test"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    p12 = folder / "lab.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"lab", key, cert, [ca], serialization.BestAvailableEncryption(passphrase)
        )
    )
    root = folder / "root.pem"
    root.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return p12, root


def test_a_configured_pkcs12_signs_and_its_trust_root_decides_trust(
    settings, tmp_path, draft_report, pathologist
):
    p12, root = make_pkcs12(tmp_path, b"secreto")
    settings.SIGNING_PKCS12_FILE = str(p12)
    settings.SIGNING_PASSPHRASE = "secreto"
    settings.SIGNING_TRUST_ROOTS = [str(root)]
    settings.SIGNING_DEMO_DIR = tmp_path / "no-demo"
    signing_identity.cache_clear()
    try:
        report = finalize(draft_report, pathologist)
        data = stored_bytes(report)
        check = signature_check(data)
        assert check.status == "valid"
        assert check.signer == "Laboratorio Test"
        assert check.is_demo is False
        assert ReportPdf.objects.get(report=report).signature_demo is False
        assert not (tmp_path / "no-demo").exists()

        # Without that root configured, the same file is intact but untrusted.
        settings.SIGNING_TRUST_ROOTS = []
        signing_identity.cache_clear()
        assert signature_check(data).status == "untrusted"
    finally:
        signing_identity.cache_clear()


def test_a_wrong_passphrase_is_a_clear_configuration_error(settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    p12, _ = make_pkcs12(tmp_path, b"secreto")
    settings.SIGNING_PKCS12_FILE = str(p12)
    settings.SIGNING_PASSPHRASE = "otra"
    signing_identity.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="SIGNING_PASSPHRASE"):
            signing_identity()
    finally:
        signing_identity.cache_clear()


# ---------------------------------------------------------------- timestamps
@pytest.fixture
def local_tsa(tmp_path):
    """A real RFC 3161 timestamp authority over HTTP on 127.0.0.1 (pyHanko's
    test TSA behind http.server); yields its URL and its root certificate."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from asn1crypto import keys, tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    now = dt.datetime.now(dt.UTC)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TSA Root Test")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(10)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(root_key, hashes.SHA256())
    )
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TSA Test")]))
        .issuer_name(root_name)
        .public_key(tsa_key.public_key())
        .serial_number(11)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
        .sign(root_key, hashes.SHA256())
    )
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(der)),
        tsa_key=keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(self.headers["Content-Type"])
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root_path = tmp_path / "tsa-root.pem"
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root_path, requests
    finally:
        server.shutdown()
        server.server_close()


def test_with_a_timestamp_authority_the_signature_carries_a_valid_timestamp(
    demo_signing, settings, local_tsa, draft_report, pathologist, client
):
    url, tsa_root, requests = local_tsa
    settings.SIGNING_TSA_URL = url
    settings.SIGNING_TRUST_ROOTS = [str(tsa_root)]
    signing_identity.cache_clear()
    report = finalize(draft_report, pathologist)
    # The token for the signature (plus, the first time in a process, one for
    # pyHanko's size estimate of the signature container).
    assert set(requests) == {"application/timestamp-query"}
    assert len(requests) in (1, 2)
    data = stored_bytes(report)
    check = signature_check(data)
    assert check.status == "valid"
    assert check.timestamp is not None
    assert check.timestamp_valid is True
    assert abs((check.timestamp - check.signing_time).total_seconds()) < 60
    assert ReportPdf.objects.get(report=report).timestamped is True

    page_url = reverse("verify", kwargs={"verification_id": report.verification_id})
    assert "Sí (RFC 3161)" in client.get(page_url).content.decode()
    upload = io.BytesIO(data)
    upload.name = "x.pdf"
    body = client.post(f"/api/v1/verify/{report.verification_id}", {"file": upload})
    sig = body.json()["upload"]["signature"]
    assert sig["timestamp"]
    assert sig["timestamp_valid"] is True


def test_a_pdf_with_a_link_on_its_first_page_keeps_it_next_to_the_signature(
    demo_signing,
):
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Verificación en línea")
    page.linkURL("https://patolab.test/verificar/x", (72, 700, 300, 730))
    page.save()
    signed = signing.sign_pdf(
        out.getvalue(),
        info=signing.DocumentInfo(
            title="Informe (prueba) Ω",
            author="Laboratorio",
            subject="Prueba",
            created=dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC),
            modified=dt.datetime(2026, 12, 1, 12, 5, tzinfo=dt.UTC),
        ),
        reason="Firmado por Dra. Núñez (matrícula 12)",
        contact="Dra. Núñez",
        location="La Plata",
    )
    reader = pypdf.PdfReader(io.BytesIO(signed.data))
    subtypes = sorted(
        str(annot.get_object()["/Subtype"]) for annot in reader.pages[0]["/Annots"]
    )
    assert subtypes == ["/Link", "/Widget"]
    assert reader.metadata.title == "Informe (prueba) Ω"
    check = signature_check(signed.data)
    assert check.status == "valid"
    assert check.reason == "Firmado por Dra. Núñez (matrícula 12)"
    assert check.signing_time == dt.datetime(2026, 12, 1, 12, 5, tzinfo=dt.UTC)


def test_a_pdf_not_written_by_our_renderers_is_refused(demo_signing):
    with pytest.raises(signing.UnsupportedPdf):
        signing.sign_pdf(
            b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n",
            info=signing.DocumentInfo(
                title="x",
                author="x",
                subject="x",
                created=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                modified=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
            ),
            reason="x",
            contact="x",
        )
