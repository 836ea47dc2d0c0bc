"""Digital signatures on issued PDFs (PAdES baseline, pyHanko) and their checks.

Key material comes from a PKCS#12 file and its passphrase (settings
`SIGNING_PKCS12_FILE` or base64 `SIGNING_PKCS12`, `SIGNING_PASSPHRASE` or
`SIGNING_PASSPHRASE_FILE`). With none set, a demo CA and a demo lab certificate
are created once in `<var>/signing/` (owner-only files): such signatures are
cryptographically real but have no legal value, and every page says so.

The key is loaded once per process (`signing_identity()`). `sign_pdf` writes
the signature itself, in one incremental update (`increment.py`) that also
carries the PDF/A parts (`pdfa.py`): a CMS SignedData with the three signed
attributes PAdES baseline B-B asks for (content type, message digest,
signing-certificate-v2), plus an RFC 3161 token as unsigned attribute with a
timestamp authority (B-T; pyHanko's HTTP client fetches it). Signing through
pyHanko's PDF writer re-read the whole document and built the container with
generic machinery: 5 ms of a report's 9. Validation stays with pyHanko.

The demo key is RSA-2048; ECDSA keys sign too.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import fcntl
import hashlib
import io
import logging
import os
import re
import secrets
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import timestamps
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from .increment import (
    UnsupportedPdf,
    append_update,
    date_string,
    read_revision,
    text_string,
    with_entries,
)
from .pdfa import (
    DocumentInfo,
    info_dictionary,
    output_intent,
    output_intent_profile,
    xmp_metadata,
)

T = TypeVar("T")

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "FirmaLaboratorio"
# Marks the demo certificates, so that a PDF signed by one can be recognised
# as a demo signature wherever it is uploaded.
DEMO_ORGANIZATION = "Patolab DEMO (sin validez legal)"
DEMO_P12 = "demo-lab.p12"
DEMO_SECRET_NAME = "demo-lab.passphrase"  # noqa: S105  (a file name)
DEMO_CA = "demo-ca.pem"
# Room for the four numbers of /ByteRange, written once the offsets are known.
BYTE_RANGE_WIDTH = 40
# Extra room (bytes) for an RFC 3161 token: its signature and the TSA's
# certificates.
TIMESTAMP_RESERVE = 8192


@dataclass
class SigningIdentity:
    """The lab's signing key and certificate chain, loaded once per process."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    # DER parts of every signature, encoded once (asn1crypto copies loaded
    # values as they are): the signing-certificate-v2 signed attribute, the
    # signer identifier and the certificates sent along (the signer's and the
    # rest of the PKCS#12, its chain).
    certificate_attribute: bytes
    signer_id: bytes
    certificates: bytes
    subject: str
    organization: str
    is_demo: bool
    trust_roots: list[asn1_x509.Certificate]
    reserve: int
    timestamper: Any = None
    # Cached for validation of uploads (built on first use).
    _context: dict[str, Any] = field(default_factory=dict)


def _name_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def demo_identity_create(folder: Path, *, lab_name: str) -> None:
    """Create the demo CA and demo lab certificate in `folder` unless they
    exist (files 0600, folder 0700). Safe when web and worker start together:
    the creation runs under an exclusive file lock."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    lock_fd = os.open(folder / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(lock_fd, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / DEMO_P12).exists():
            return
        now = dt.datetime.now(dt.UTC)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "AR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_ORGANIZATION),
                x509.NameAttribute(NameOID.COMMON_NAME, "Patolab DEMO CA"),
            ]
        )
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        lab_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        lab_name_x509 = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "AR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_ORGANIZATION),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{lab_name} (DEMO)"[:64]),
            ]
        )
        lab_cert = (
            x509.CertificateBuilder()
            .subject_name(lab_name_x509)
            .issuer_name(ca_name)
            .public_key(lab_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        passphrase = secrets.token_urlsafe(24).encode()
        bundle = pkcs12.serialize_key_and_certificates(
            b"patolab-demo",
            lab_key,
            lab_cert,
            [ca_cert],
            serialization.BestAvailableEncryption(passphrase),
        )
        _write_private(folder / DEMO_SECRET_NAME, passphrase)
        _write_private(
            folder / DEMO_CA, ca_cert.public_bytes(serialization.Encoding.PEM)
        )
        # Written last: its presence means the set is complete.
        _write_private(folder / DEMO_P12, bundle)
        logger.warning(
            "Created a DEMO signing certificate in %s: signatures made with it "
            "have no legal value (see README, 'Signed reports').",
            folder,
        )


def _load_certs(paths: list[str]) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for path in paths:
        data = Path(path).read_bytes()
        if b"-----BEGIN CERTIFICATE-----" in data:
            certs += x509.load_pem_x509_certificates(data)
        else:
            certs.append(x509.load_der_x509_certificate(data))
    return certs


def _identity_from_settings() -> SigningIdentity:
    raw_b64 = getattr(settings, "SIGNING_PKCS12", "")
    p12_path = getattr(settings, "SIGNING_PKCS12_FILE", "")
    passphrase = getattr(settings, "SIGNING_PASSPHRASE", "")
    trust_files = list(getattr(settings, "SIGNING_TRUST_ROOTS", []))
    is_demo = not (raw_b64 or p12_path)
    if is_demo:
        folder = Path(settings.SIGNING_DEMO_DIR)
        if not (folder / DEMO_P12).exists():
            demo_identity_create(folder, lab_name=settings.LAB_NAME)
        p12_path = str(folder / DEMO_P12)
        passphrase = (folder / DEMO_SECRET_NAME).read_text().strip()
        trust_files = [str(folder / DEMO_CA), *trust_files]
    try:
        bundle = base64.b64decode(raw_b64) if raw_b64 else Path(p12_path).read_bytes()
        key, cert, extra = pkcs12.load_key_and_certificates(
            bundle, passphrase.encode() if passphrase else None
        )
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"Cannot load the signing PKCS#12 ({type(exc).__name__}: {exc}); check "
            "SIGNING_PKCS12_FILE / SIGNING_PKCS12 and SIGNING_PASSPHRASE."
        ) from exc
    if key is None or cert is None:
        raise ImproperlyConfigured("The signing PKCS#12 has no key or certificate.")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ImproperlyConfigured("The signing key must be RSA or ECDSA.")
    chain = [_to_asn1(c) for c in extra]
    trust = [_to_asn1(c) for c in _load_certs(trust_files)]
    certificate = _to_asn1(cert)
    attribute = cms.CMSAttribute(
        {
            "type": "signing_certificate_v2",
            "values": [as_signing_certificate_v2(certificate)],
        }
    )
    tsa_url = getattr(settings, "SIGNING_TSA_URL", "")
    # Space for the CMS blob, in hex digits: the certificates, plus the
    # signature, the signed attributes and the signer's issuer name twice,
    # with a margin (an estimate by pyHanko would cost a dummy signature per
    # document). Measured with the demo RSA-2048 certificate: 721 bytes
    # beyond the certificates; an RSA-4096 signature adds 256 and a long
    # issuer name a few hundred more. The unused space is zeros in every PDF
    # and every e-mail attachment. A timestamp token carries the TSA's own
    # certificates: TIMESTAMP_RESERVE more.
    certs_size = sum(len(c.dump()) for c in [certificate, *chain])
    reserve = 2 * (certs_size + 2048 + (TIMESTAMP_RESERVE if tsa_url else 0))
    return SigningIdentity(
        key=key,
        certificate_attribute=attribute.dump(),
        signer_id=cms.SignerIdentifier(
            name="issuer_and_serial_number",
            value=cms.IssuerAndSerialNumber(
                {
                    "issuer": certificate.issuer,
                    "serial_number": certificate.serial_number,
                }
            ),
        ).dump(),
        certificates=cms.CertificateSet([certificate, *chain]).dump(),
        subject=_name_attr(cert.subject, NameOID.COMMON_NAME)
        or cert.subject.rfc4514_string(),
        organization=_name_attr(cert.subject, NameOID.ORGANIZATION_NAME),
        is_demo=is_demo,
        trust_roots=trust,
        reserve=reserve,
        timestamper=timestamps.HTTPTimeStamper(tsa_url, timeout=10)
        if tsa_url
        else None,
    )


@cache
def signing_identity() -> SigningIdentity:
    """The configured identity (demo one created on first use). Cached per
    process; tests that change settings call `signing_identity.cache_clear()`."""
    return _identity_from_settings()


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    signer: str
    signed_at: dt.datetime
    timestamped: bool
    is_demo: bool


_loops = threading.local()


def _run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    # pyHanko's synchronous wrappers call asyncio.run(), which creates and
    # tears down an event loop each time (~0.4 ms a signature); each thread
    # here keeps one private loop instead. It refuses to run in a thread whose
    # event loop is already running (an ASGI server, or Playwright's sync API
    # in the browser tests): then a short-lived thread runs it.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = getattr(_loops, "loop", None)
        if loop is None or loop.is_closed():
            loop = _loops.loop = asyncio.new_event_loop()
        return loop.run_until_complete(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def sign_pdf(
    data: bytes,
    *,
    info: DocumentInfo,
    reason: str,
    contact: str,
    location: str = "",
) -> SignedPdf:
    """Make `data` (a PDF our renderers wrote) a signed PDF/A-2b: one
    incremental update with the PDF/A metadata, Info and output intent, an
    invisible signature field on the first page and a PAdES baseline
    signature (B-B, or B-T with `SIGNING_TSA_URL`) covering the whole file.
    `info.modified` is the signing time. Pure apart from the TSA request."""
    identity = signing_identity()
    revision = read_revision(data)
    number = revision.size
    metadata, profile, intent, form, field_, signature = range(number, number + 6)
    page = revision.first_page()
    catalog = revision.dictionary(revision.root)
    for key in (b"/Metadata", b"/OutputIntents", b"/AcroForm", b"/Extensions"):
        if key in catalog:
            raise UnsupportedPdf(f"the catalog already has {key.decode()}")
    catalog = with_entries(
        catalog,
        (b"" if b"/Version" in catalog else b"/Version /1.7\n")
        + b"/Metadata %d 0 R\n/OutputIntents [ %d 0 R ]\n/AcroForm %d 0 R\n"
        b"/Extensions << /ESIC << /Type /DeveloperExtensions /BaseVersion /1.7"
        b" /ExtensionLevel 1 >> >>" % (metadata, intent, form),
    )
    page_text = revision.dictionary(page)
    annots = re.search(rb"/Annots\s*\[", page_text)
    if annots is not None:
        page_text = (
            page_text[: annots.end()] + b" %d 0 R" % field_ + page_text[annots.end() :]
        )
    elif b"/Annots" in page_text:
        raise UnsupportedPdf("the first page's /Annots is not an array")
    else:
        page_text = with_entries(page_text, b"/Annots [ %d 0 R ]" % field_)
    info_number = revision.info if revision.info is not None else number + 6
    reserve = identity.reserve
    signature_dict = (
        b"<<\n/Type /Sig\n/Filter /Adobe.PPKLite\n/SubFilter /ETSI.CAdES.detached"
        b"\n/ByteRange [%s]\n/Contents <%s>\n/M %s\n/Name %s\n/Reason %s"
        b"\n/ContactInfo %s%s\n>>"
        % (
            b" " * BYTE_RANGE_WIDTH,
            b"0" * reserve,
            date_string(info.modified),
            text_string(identity.subject),
            text_string(reason),
            text_string(contact),
            b"\n/Location " + text_string(location) if location else b"",
        )
    )
    out = append_update(
        revision,
        {
            revision.root: catalog,
            page: page_text,
            info_number: info_dictionary(info),
            metadata: xmp_metadata(info),
            profile: output_intent_profile(),
            intent: output_intent(profile),
            form: b"<<\n/Fields [ %d 0 R ]\n/SigFlags 3\n>>" % field_,
            field_: b"<<\n/FT /Sig\n/T %s\n/Type /Annot\n/Subtype /Widget\n/F 132"
            b"\n/Rect [ 0 0 0 0 ]\n/P %d 0 R\n/V %d 0 R\n>>"
            % (text_string(SIGNATURE_FIELD), page, signature),
            signature: signature_dict,
        },
        info=info_number,
        new_id=secrets.token_hex(16).encode(),
    )
    # The signature's hole: its /Contents hex string, brackets included.
    # (Searched from the update on: the original bytes cannot match.)
    update = out.index(b"\n%d 0 obj\n" % signature, len(revision.data) - 1)
    start = out.index(b"/Contents <", update) + 10
    end = start + reserve + 2
    ranges = b"0 %d %d %d" % (start, end, len(out) - end)
    at = out.index(b"/ByteRange [", update) + len(b"/ByteRange [")
    out[at : at + len(ranges)] = ranges
    digest = hashlib.sha256(out[:start])
    digest.update(out[end:])
    container = _signed_data(identity, digest.digest())
    if 2 * len(container) > reserve:
        raise ValueError(
            f"the signature ({len(container)} bytes) does not fit its reserved space"
        )
    out[start + 1 : start + 1 + 2 * len(container)] = container.hex().upper().encode()
    return SignedPdf(
        data=bytes(out),
        signer=identity.subject,
        signed_at=info.modified,
        timestamped=identity.timestamper is not None,
        is_demo=identity.is_demo,
    )


def _signed_data(identity: SigningIdentity, digest: bytes) -> bytes:
    """The DER CMS SignedData (detached) over a document `digest` (SHA-256)."""
    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            cms.CMSAttribute.load(identity.certificate_attribute),
        ]
    )
    to_sign = signed_attrs.dump()
    key = identity.key
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        algorithm = algos.SignedDigestAlgorithm(
            {"algorithm": "sha256_rsa", "parameters": core.Null()}
        )
    else:
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    sha256 = algos.DigestAlgorithm({"algorithm": "sha256", "parameters": core.Null()})
    signer_info: dict[str, Any] = {
        "version": "v1",
        "sid": cms.SignerIdentifier.load(identity.signer_id),
        "digest_algorithm": sha256,
        "signed_attrs": signed_attrs,
        "signature_algorithm": algorithm,
        "signature": signature,
    }
    if identity.timestamper is not None:
        token = _run_coroutine(
            identity.timestamper.async_timestamp(
                hashlib.sha256(signature).digest(), "sha256"
            )
        )
        signer_info["unsigned_attrs"] = cms.CMSAttributes(
            [
                cms.CMSAttribute(
                    {"type": "signature_time_stamp_token", "values": [token]}
                )
            ]
        )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [sha256],
            "encap_content_info": {"content_type": "data"},
            "certificates": cms.CertificateSet.load(identity.certificates),
            "signer_infos": [signer_info],
        }
    )
    container: bytes = cms.ContentInfo(
        {"content_type": "signed_data", "content": signed_data}
    ).dump()
    return container


# ---------------------------------------------------------------- validation
@dataclass
class SignatureCheck:
    """What the verification page and API say about an uploaded PDF's
    signature. `status` is one of: `valid` (intact, valid, covers the whole
    file, chains to a trust root), `untrusted` (intact and valid but not
    chaining to a configured root), `modified` (the signed bytes changed or
    content was added after signing), `invalid` (broken signature), `unsigned`
    or `unreadable` (not a PDF pyHanko can read)."""

    status: str
    signed: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    covers_whole_file: bool = False
    signer: str = ""
    signer_organization: str = ""
    is_demo: bool = False
    signing_time: dt.datetime | None = None
    timestamp: dt.datetime | None = None
    timestamp_valid: bool | None = None
    reason: str = ""
    contact: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "signed": self.signed,
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "covers_whole_file": self.covers_whole_file,
            "signer": self.signer or None,
            "signer_organization": self.signer_organization or None,
            "demo": self.is_demo,
            "signing_time": self.signing_time.isoformat()
            if self.signing_time
            else None,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "timestamp_valid": self.timestamp_valid,
            "reason": self.reason or None,
            "contact": self.contact or None,
        }


def _validation_context(identity: SigningIdentity) -> ValidationContext:
    # No network from a public page: no fetching of CRLs/OCSP or AIA
    # certificates; revocation is checked when the PDF embeds the data.
    return ValidationContext(
        trust_roots=identity.trust_roots,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


def signature_check(data: bytes) -> SignatureCheck:
    """Validate the last signature of an uploaded PDF against the configured
    trust roots. Never raises for bad input: an unreadable file is a status."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_regular_signatures
    except Exception as exc:
        return SignatureCheck(status="unreadable", error=f"{type(exc).__name__}")
    if not embedded:
        return SignatureCheck(status="unsigned")
    sig = embedded[-1]
    identity = signing_identity()
    context = _validation_context(identity)
    try:
        status = _run_coroutine(
            async_validate_pdf_signature(
                sig, signer_validation_context=context, ts_validation_context=context
            )
        )
    except Exception as exc:
        logger.info("signature validation failed: %s", exc)
        return SignatureCheck(status="invalid", signed=True, error=type(exc).__name__)
    cert = status.signing_cert
    subject = cert.subject.native
    organization = str(subject.get("organization_name", ""))
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    ts = status.timestamp_validity
    sig_dict = sig.sig_object
    check = SignatureCheck(
        status="valid",
        signed=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=whole,
        signer=str(subject.get("common_name", "")) or cert.subject.human_friendly,
        signer_organization=organization,
        is_demo=organization == DEMO_ORGANIZATION,
        signing_time=status.signer_reported_dt,
        timestamp=ts.timestamp if ts is not None else None,
        timestamp_valid=bool(ts.intact and ts.valid) if ts is not None else None,
        reason=str(sig_dict.get("/Reason", "")),
        contact=str(sig_dict.get("/ContactInfo", "")),
    )
    if not check.intact or not whole:
        check.status = "modified"
    elif not check.valid:
        check.status = "invalid"
    elif not check.trusted:
        check.status = "untrusted"
    return check
