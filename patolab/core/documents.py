"""The one document pipeline: every generated file (labels, work orders, reports,
exports, submission slips) is a *document kind* that fills the same slots.

A kind supplies a pure `<entity>_document_data(target)`, a pure renderer
`render(data) -> bytes` with its `renderer_version`, a stored-document model
(a subclass of `StoredDocument`) and the job kind that makes the file. This
module owns the rest, once:

- the fingerprint: SHA-256 of the canonical JSON of the printed data plus the
  renderer version. A stored row whose fingerprint differs from the target's
  current one is stale and is never served;
- "the current file, or start/join the job that makes it" (`document_get_or_start`),
  the read-only variant for polling (`document_status`) and the idempotent job
  body (`document_build`);
- the registry the one polling view (`jobs:document-status`) looks kinds up in.

Core is the ground floor and never imports the jobs app: `patolab.jobs`
plugs its `job_start` / `job_latest_for` in from `AppConfig.ready`
(`connect_jobs`), the "higher floor registers itself" rule of STYLE.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.core.files.storage import default_storage
from django.db import models, transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .files import file_response, sha256_hex, store_bytes

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=models.Model)


# ---------------------------------------------------------------- fingerprint
def canonical_json(data: Any) -> str:
    """One canonical text for a payload: sorted keys, no spaces, dates and
    decimals as `str` (so `Decimal("1.50")` and `1.5` differ, as printed)."""
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )


def document_fingerprint(data: Any, *, renderer: str) -> str:
    """SHA-256 hex of `{"renderer": renderer, "data": data}` in canonical JSON.

    `data` is what the document prints (a dataclass or plain JSON-able values);
    `renderer` is the renderer's version string, bumped when the layout
    changes, so every stored file of that kind becomes stale at once.
    """
    plain = asdict(data) if is_dataclass(data) and not isinstance(data, type) else data
    payload = {"renderer": renderer, "data": plain}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


# ---------------------------------------------------------------- stored files
class StoredDocument(models.Model):
    """A generated file in the default storage (never served by URL: only a view
    that checked permission streams it, with ETag = `sha256`)."""

    fingerprint = models.CharField(_("huella"), max_length=64)
    file = models.CharField(_("archivo"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("tamaño"), default=0)
    created_at = models.DateTimeField(_("generado"), auto_now_add=True)

    class Meta:
        abstract = True


D = TypeVar("D", bound=StoredDocument)


# ---------------------------------------------------------------- the jobs port
class JobPort(Protocol):
    """What the pipeline needs from the jobs app (plugged in by `connect_jobs`)."""

    def start(
        self, *, kind: str, target: models.Model, params: dict[str, Any], user: Any
    ) -> Any: ...

    def latest(self, *, kind: str, target: models.Model) -> Any: ...


_jobs: JobPort | None = None


def connect_jobs(port: JobPort) -> None:
    """Called once by `patolab.jobs.apps.JobsConfig.ready`."""
    global _jobs
    _jobs = port


def _port() -> JobPort:
    if _jobs is None:  # pragma: no cover - the jobs app is always installed
        raise RuntimeError("patolab.jobs is not ready: documents cannot start jobs")
    return _jobs


# ---------------------------------------------------------------- kinds
PENDING_TEXT = _("Generando el documento…")
DOWNLOAD_TEXT = _("Descargar")


@dataclass(frozen=True)
class DocumentKind(Generic[T, D]):
    """The slots a document kind fills. Functions, not subclasses: each app keeps
    its data function and renderer pure and testable on their own."""

    # URL slug of the kind in the polling view (`/trabajos/documentos/<name>/<pk>/`).
    name: str
    # The job that renders and stores it (a constant from the app's `jobs.py`).
    job_kind: str
    model: type[D]
    # Field of `model` that points at the target (FK or one-to-one).
    owner: str
    data: Callable[[T], Any]
    render: Callable[[Any], bytes]
    renderer_version: Callable[[], str]
    # Storage path of a new file: (target, fingerprint, sha256) -> "labels/….pdf".
    path: Callable[[T, str, str], str]
    # Download file name (never raw user text).
    filename: Callable[[T], str]
    # The target the user may see, by primary key (404 otherwise; 403 for a role).
    get_for: Callable[[Any, str], T]
    # URL name of the permission-checked download view (kwargs: pk).
    url_name: str
    heading: str | Promise = ""
    pending_text: str | Promise = PENDING_TEXT
    download_text: str | Promise = DOWNLOAD_TEXT
    # True: one row per target, replaced in place (older file deleted after
    # commit). False: one row per (target, fingerprint), earlier rows kept.
    replace: bool = False
    # Optional faster lookup of the stored row with this fingerprint (e.g. a
    # select_related one-to-one); defaults to one query on `model`.
    find: Callable[[T, str], D | None] | None = None
    # Extra model fields derived from the printed data (e.g. a page count).
    row_fields: Callable[[Any], dict[str, Any]] | None = None
    # History mode: the field (besides the owner) that identifies a stored row:
    # "fingerprint" (one file per printed content) or "sha256" (one row per
    # distinct file, for kinds whose rows are a record of every file issued).
    unique_by: str = "fingerprint"
    # Consulted first: raise a DomainError when the target cannot have a file
    # (a draft report), or return the job of another kind that is making it
    # right now (a finalization); None otherwise. Keep it cheap: it runs on
    # every GET.
    producing: Callable[[T], Any] | None = None
    # Consulted only when no current file is stored, before starting a job of
    # this kind: a job of another kind that will make it (a bulk regeneration
    # covering the target). Off the serving path of a current file.
    covering: Callable[[T], Any] | None = None
    content_type: str = "application/pdf"

    def fingerprint(self, target: T) -> str:
        return document_fingerprint(self.data(target), renderer=self.renderer_version())

    def stored(self, target: T, fingerprint: str) -> D | None:
        if self.find is not None:
            return self.find(target, fingerprint)
        return (
            self.model._default_manager.filter(
                **{self.owner: target, "fingerprint": fingerprint}
            )
            .order_by("-created_at")
            .first()
        )


_KINDS: dict[str, DocumentKind[Any, Any]] = {}


def register_document(kind: DocumentKind[T, D]) -> DocumentKind[T, D]:
    _KINDS[kind.name] = kind
    return kind


def document_kind_get(name: str) -> DocumentKind[Any, Any]:
    """The registered kind called `name`; LookupError for an unknown one."""
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"unknown document kind {name!r}") from None


@dataclass(frozen=True)
class DocumentState(Generic[D]):
    """Either the current stored document, or the job making it (or, read-only,
    the latest job when there is none active; None if there never was one)."""

    document: D | None
    job: Any = None

    @property
    def ready(self) -> bool:
        return self.document is not None

    @property
    def pending(self) -> bool:
        return self.document is None and self.job is not None and self.job.is_active

    def __iter__(self) -> Iterator[Any]:
        # `document, job = state` reads naturally at call sites.
        return iter((self.document, self.job))


# ---------------------------------------------------------------- reads
def document_current(kind: DocumentKind[T, D], target: T) -> D | None:
    """The stored document whose fingerprint is the target's current one, or
    None: a stale file is never returned."""
    return kind.stored(target, kind.fingerprint(target))


def document_status(kind: DocumentKind[T, D], target: T) -> DocumentState[D]:
    """For polling, without side effects: the current document, or else the
    latest job of this kind for the target."""
    if kind.producing is not None:
        job = kind.producing(target)
        if job is not None:
            return DocumentState(None, job)
    document = document_current(kind, target)
    if document is not None:
        return DocumentState(document)
    if kind.covering is not None:
        job = kind.covering(target)
        if job is not None:
            return DocumentState(None, job)
    return DocumentState(None, _port().latest(kind=kind.job_kind, target=target))


# ---------------------------------------------------------------- writes
def document_get_or_start(
    kind: DocumentKind[T, D], target: T, *, user: Any
) -> DocumentState[D]:
    """The current document, or the active job that (re)generates it, started if
    none is active. Asking again joins the same job (job_start is idempotent per
    kind and target, backed by a partial unique constraint), so concurrent GETs
    start one job. The caller has already checked that `user` may see `target`.

    Side effects: at most one Job row, sent to its queue after commit.
    """
    if kind.producing is not None:
        job = kind.producing(target)
        if job is not None:
            return DocumentState(None, job)
    fingerprint = kind.fingerprint(target)
    document = kind.stored(target, fingerprint)
    if document is not None:
        return DocumentState(document)
    if kind.covering is not None:
        job = kind.covering(target)
        if job is not None:
            return DocumentState(None, job)
    job = _port().start(
        kind=kind.job_kind,
        target=target,
        params={"fingerprint": fingerprint},
        user=user,
    )
    return DocumentState(None, job)


def document_store(
    kind: DocumentKind[T, D],
    target: T,
    *,
    fingerprint: str,
    content: bytes,
    defaults: dict[str, Any] | None = None,
) -> D:
    """Write `content` to storage and record it for `target` and `fingerprint`.

    Idempotent: the same bytes at the same path are not rewritten, and the row is
    written once (a rerun after a crash between file and row finds the row; a
    concurrent insert is caught by the model's unique constraint). In `replace`
    mode the target's single row is updated and the previous file deleted after
    commit. Returns the row.
    """
    digest = sha256_hex(content)
    stored_path = store_bytes(kind.path(target, fingerprint, digest), content)
    fields: dict[str, Any] = {
        "fingerprint": fingerprint,
        "file": stored_path,
        "sha256": digest,
        "size": len(content),
        **(defaults or {}),
    }
    manager = kind.model._default_manager
    owner_lookup: dict[str, Any] = {kind.owner: target}
    if kind.replace:
        previous = manager.filter(**owner_lookup).first()
        old_file = previous.file if previous is not None else ""
        row, _created = manager.update_or_create(
            defaults={**fields, "created_at": timezone.now()}, **owner_lookup
        )
        if old_file and old_file != stored_path:
            transaction.on_commit(lambda: _delete_quietly(old_file))
        owner = kind.model._meta.get_field(kind.owner)
        if owner.one_to_one and owner.remote_field is not None:
            # Keep `target.<related>` in step with the row just written.
            owner.remote_field.set_cached_value(target, row)
        return row
    key = {**owner_lookup, kind.unique_by: fields.pop(kind.unique_by)}
    row, created = manager.get_or_create(defaults=fields, **key)
    if not created and row.fingerprint != fingerprint:
        # The same file again under a new fingerprint (say a renderer version
        # bump that changed no byte): it is the current file now.
        row.fingerprint = fingerprint
        row.save(update_fields=["fingerprint"])
    return row


def document_build(kind: DocumentKind[T, D], target: T) -> D:
    """The body of a kind's job: render and store the target's document *as it is
    now* (data may have changed since the job was queued).

    Idempotent: when a row with the current fingerprint exists and its file is
    in storage, nothing is rendered or written.
    """
    data = kind.data(target)
    fingerprint = document_fingerprint(data, renderer=kind.renderer_version())
    existing = kind.stored(target, fingerprint)
    if existing is not None and default_storage.exists(existing.file):
        return existing
    return document_store(
        kind,
        target,
        fingerprint=fingerprint,
        content=kind.render(data),
        defaults=kind.row_fields(data) if kind.row_fields else None,
    )


def _delete_quietly(path: str) -> None:
    try:
        default_storage.delete(path)
    except OSError:
        logger.warning("could not delete stale document file %s", path)


# ---------------------------------------------------------------- serving
def document_response(
    request: HttpRequest, kind: DocumentKind[T, D], target: T, document: D
) -> HttpResponseBase:
    """Stream a current stored document (ETag = SHA-256, 304 on If-None-Match)."""
    return file_response(
        request,
        path=document.file,
        sha256=document.sha256,
        filename=kind.filename(target),
        content_type=kind.content_type,
    )
