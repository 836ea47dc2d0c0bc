"""Demo reports (runs after the protocols demo): drafts for protocols being
processed or ready, and finalized + sent reports with real PDFs for protocols
whose report was sent. No e-mails are created."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from patolab.accounts.models import Role, User
from patolab.protocols.models import AnalysisType, Protocol, ProtocolStatus

from .models import Report, ReportPdf, ReportStatus
from .services import report_pdf_issue

HISTO = [
    (
        "Se recibe nódulo cutáneo de {size} cm, firme, de superficie alopécica; al "
        "corte, blanquecino y homogéneo. Se incluye en su totalidad.",
        "Dermis ocupada por una proliferación de mastocitos bien diferenciados, "
        "dispuestos en láminas, con gránulos citoplasmáticos metacromáticos y "
        "eosinófilos entremezclados. Índice mitótico: {mitoses} mitosis en 10 campos "
        "de gran aumento. Márgenes quirúrgicos libres de neoplasia.",
        "Mastocitoma cutáneo, grado II (Patnaik) / bajo grado (Kiupel).",
        "Se sugiere control clínico y ecográfico del linfonodo regional.",
    ),
    (
        "Se recibe fragmento de glándula mamaria de {size} cm con nódulo bien "
        "delimitado, de consistencia firme.",
        "Proliferación de células epiteliales luminales y mioepiteliales formando "
        "túbulos y áreas sólidas, con atipia leve y {mitoses} mitosis en 10 CGA. "
        "No se observa invasión vascular.",
        "Carcinoma mamario complejo, grado I.",
        "Pronóstico favorable. Se recomienda control en 3 meses.",
    ),
    (
        "Se recibe biopsia de piel de {size} cm con área ulcerada central.",
        "Epidermis con hiperplasia irregular y cordones de queratinocitos atípicos "
        "que invaden la dermis, con perlas córneas. {mitoses} mitosis en 10 CGA.",
        "Carcinoma de células escamosas bien diferenciado.",
        "",
    ),
]
CYTO = [
    (
        "",
        "Extendidos de celularidad moderada con predominio de linfocitos pequeños "
        "maduros, escasos linfoblastos y macrófagos con cuerpos tingibles.",
        "Hiperplasia linfoide reactiva.",
        "Correlacionar con la clínica; si persiste la linfadenomegalia, biopsiar.",
    ),
    (
        "",
        "Muestra de alta celularidad con células redondas de citoplasma con "
        "abundantes gránulos púrpura que ocultan el núcleo; eosinófilos frecuentes.",
        "Compatible con mastocitoma.",
        "Se recomienda exéresis con márgenes amplios e histopatología.",
    ),
    (
        "",
        "Escasa celularidad, adipocitos maduros en grupos sobre fondo oleoso.",
        "Compatible con lipoma.",
        "",
    ),
]


def _texts(rng: random.Random, protocol: Protocol) -> dict[str, str]:
    pool = HISTO if protocol.analysis_type == AnalysisType.HISTOPATHOLOGY else CYTO
    macro, micro, diagnosis, comments = rng.choice(pool)
    values = {
        "size": f"{rng.uniform(0.5, 4):.1f}".replace(".", ","),
        "mitoses": rng.randint(0, 6),
    }
    return {
        "macroscopic": macro.format(**values),
        "microscopic": micro.format(**values),
        "diagnosis": diagnosis,
        "comments": comments,
    }


def seed(stdout: Any) -> None:
    if Report.objects.exists():
        stdout.write("Demo reports already present.")
        return
    pathologist = User.objects.filter(role=Role.HISTOPATHOLOGIST).order_by("pk").first()
    if pathologist is None:
        stdout.write("Demo reports skipped: no histopathologist user.")
        return
    rng = random.Random(4242)  # noqa: S311 - deterministic demo data
    drafts = 0
    for protocol in Protocol.objects.filter(
        status__in=(ProtocolStatus.PROCESSING, ProtocolStatus.READY)
    ).order_by("pk"):
        if protocol.status == ProtocolStatus.PROCESSING and rng.random() < 0.6:
            continue
        texts = _texts(rng, protocol)
        if rng.random() < 0.3:
            texts["diagnosis"] = ""  # work in progress
        Report.objects.create(protocol=protocol, histopathologist=pathologist, **texts)
        drafts += 1
    finalized = 0
    for protocol in (
        Protocol.objects.filter(status=ProtocolStatus.REPORT_SENT)
        .select_related("veterinarian")
        .order_by("pk")
    ):
        when = protocol.report_sent_at or timezone.now()
        report = Report.objects.create(
            protocol=protocol,
            histopathologist=pathologist,
            status=ReportStatus.SENT,
            finalized_at=when - timedelta(minutes=5),
            sent_at=when,
            **_texts(rng, protocol),
        )
        report = Report.objects.select_related(
            "protocol", "protocol__veterinarian", "histopathologist", "supersedes"
        ).get(pk=report.pk)
        stored = report_pdf_issue(report=report, reason="finalize")
        Report.objects.filter(pk=report.pk).update(
            pdf_file=stored.file,
            pdf_sha256=stored.sha256,
            created_at=when - timedelta(hours=rng.uniform(4, 48)),
        )
        ReportPdf.objects.filter(pk=stored.pk).update(created_at=when)
        finalized += 1
    stdout.write(
        f"Demo reports ready: {drafts} drafts, {finalized} finalized with PDF."
    )
