"""Exports: request (validate, start the job), generate (stream rows to a file,
store it, e-mail the link) and expire."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from patolab.accounts.models import Role, User
from patolab.accounts.permissions import require_role
from patolab.core.documents import document_fingerprint
from patolab.core.errors import ValidationFailed
from patolab.jobs.models import Job
from patolab.jobs.services import Progress, job_start
from patolab.notifications import emails

from .datasets import (
    DATASETS,
    dataset_columns,
    dataset_rows,
    dataset_title,
    filters_clean,
)
from .jobs import EXPORT_KIND
from .models import Export, ExportFormat
from .writers import WRITER_VERSION, write_csv, write_xlsx

logger = logging.getLogger(__name__)

SEPARATORS = (",", ";")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid", errors={field: [message]})


def export_request(
    *,
    user: User,
    dataset: str = "protocols",
    format: str,
    filters: dict[str, Any] | None = None,
    separator: str = ",",
    ids: Sequence[int] | None = None,
) -> Job:
    """Validate an export request and start its job (queue `bulk`).

    Lab staff and admins (NotAllowed otherwise). `filters` are the list's keys,
    validated like the list does: unknown keys, bad dates or choices, a bad
    format, dataset or separator raise ValidationFailed (400) and start
    nothing. `ids` restricts to a selection (the admin action). The same
    request repeated while its job is active returns that job.
    """
    require_role(user, Role.LAB_STAFF)
    if format not in ExportFormat.values:
        raise _invalid("format", _("Formato no permitido (csv o xlsx)."))
    if dataset not in DATASETS:
        raise _invalid("dataset", _("Datos no permitidos (protocols o workorders)."))
    if separator not in SEPARATORS:
        raise _invalid("separator", _("Separador no permitido (',' o ';')."))
    params: dict[str, Any] = {
        "dataset": dataset,
        "format": format,
        "filters": filters_clean(dataset=dataset, filters=filters or {}),
        "separator": separator,
    }
    if ids is not None:
        params["ids"] = sorted({int(i) for i in ids})
    # The same request (same user, canonical parameters) joins the active job.
    fingerprint = document_fingerprint(params, renderer=WRITER_VERSION)
    return job_start(
        kind=EXPORT_KIND,
        target=f"exports.request:{user.pk}:{fingerprint[:32]}",
        params=params,
        user=user,
    )


def export_filename(*, export: Export) -> str:
    """Download name: dataset, time and id; never user text."""
    stamp = timezone.localtime(export.created_at).strftime("%Y%m%d-%H%M")
    name = "protocolos" if export.dataset == "protocols" else "ordenes-de-trabajo"
    return f"{name}-{stamp}-{str(export.pk)[:8]}.{export.format}"


def _result(export: Export) -> dict[str, Any]:
    return {
        "rows": export.rows,
        "file_url": reverse("api:export_file", kwargs={"export_id": export.pk}),
        "export_id": str(export.pk),
        "expires_at": export.expires_at.isoformat(),
        "message": _("%(rows)s filas exportadas.") % {"rows": export.rows},
    }


@dataclass(frozen=True)
class WrittenFile:
    path: str
    rows: int
    size: int
    sha256: str


def export_file_write(
    *,
    params: dict[str, Any],
    user: User,
    path: str,
    progress: Callable[..., None] | None = None,
) -> WrittenFile:
    """Stream the rows of an export request (validated `params`) into a
    temporary file, a chunk at a time, and store it at `path` through the
    storage API (replacing a leftover of an earlier run). Memory stays flat:
    rows come from a server-side cursor and leave as soon as they are written.
    """
    dataset, fmt = params["dataset"], params["format"]
    report = progress or (lambda *args, **kwargs: None)
    # In a transaction the server-side cursor streams (outside one, PostgreSQL
    # would materialise a WITH HOLD cursor's whole result first).
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Plan for reading every row, not for a fast first row.
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        columns = dataset_columns(dataset)
        total, rows = dataset_rows(
            dataset=dataset, user=user, filters=params["filters"], ids=params.get("ids")
        )
        report(0, total, force=True)
        with tempfile.TemporaryFile() as out:
            if fmt == ExportFormat.CSV:
                count = write_csv(
                    out,
                    columns,
                    rows,
                    delimiter=params.get("separator", ","),
                    on_chunk=lambda n: report(n, total),
                )
            else:
                count = write_xlsx(
                    out,
                    columns,
                    rows,
                    sheet_name=dataset_title(dataset),
                    on_chunk=lambda n: report(n, total),
                )
            size = out.tell()
            out.seek(0)
            digest = hashlib.sha256()
            for block in iter(lambda: out.read(1 << 20), b""):
                digest.update(block)
            out.seek(0)
            if default_storage.exists(path):
                default_storage.delete(path)
            stored = default_storage.save(path, File(out, name=path))
    report(count, count, force=True)
    return WrittenFile(stored, count, size, digest.hexdigest())


def export_generate_execute(*, job: Job, progress: Progress) -> dict[str, Any]:
    """The body of the export job: write and store the file
    (`export_file_write`), record the Export row and e-mail the requester the
    download link, once.

    Idempotent: a job whose Export row exists returns its result; a re-run
    after a crash before that row rewrites the same storage path.
    """
    done = Export.objects.filter(job=job).first()
    if done is not None:
        return _result(done)
    user = job.requested_by
    if user is None:
        raise ValidationFailed(_("El usuario que pidió la exportación ya no existe."))
    params = job.params
    dataset, fmt = params["dataset"], params["format"]
    written = export_file_write(
        params=params,
        user=user,
        path=f"exports/{job.created_at:%Y/%m}/{job.pk}.{fmt}",
        progress=progress,
    )
    count = written.rows
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        export = Export.objects.create(
            job=job,
            requested_by=user,
            dataset=dataset,
            format=fmt,
            filters={
                **params["filters"],
                **({"ids": params["ids"]} if "ids" in params else {}),
            },
            rows=count,
            fingerprint=document_fingerprint(params, renderer=WRITER_VERSION),
            file=written.path,
            sha256=written.sha256,
            size=written.size,
            expires_at=timezone.now() + timedelta(days=settings.EXPORTS_EXPIRY_DAYS),
        )
        emails.export_ready(
            user=user,
            export_id=export.pk,
            url=emails.absolute_url(
                reverse("exports:download", kwargs={"pk": export.pk})
            ),
            dataset=dataset_title(dataset),
            format=export.get_format_display(),
            rows=count,
            expires=timezone.localtime(export.expires_at).strftime("%d/%m/%Y %H:%M"),
        )
    return _result(export)


def export_cleanup_expired() -> dict[str, int]:
    """Delete the files of exports past `expires_at` and mark them expired
    (beat, hourly). Idempotent; a file already gone is fine."""
    now = timezone.now()
    expired = 0
    for export in Export.objects.filter(expired_at__isnull=True, expires_at__lte=now):
        try:
            default_storage.delete(export.file)
        except OSError:
            logger.warning("could not delete expired export file %s", export.file)
            continue
        expired += Export.objects.filter(pk=export.pk, expired_at__isnull=True).update(
            expired_at=now
        )
    return {"expired": expired}
