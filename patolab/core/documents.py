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

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.storage import default_storage
from django.core.signals import setting_changed
from django.db import connections, models, transaction
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .db import insert_unless_conflict
from .errors import DomainError
from .files import file_response, sha256_hex, store_bytes
from .prepared import prepared_row

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
    # Fast serving of a current file (`document_serve_current`, PostgreSQL).
    # `printed`: relation paths from the target to every other row `data`
    # reads (the target's own row always counts), e.g. ("protocol",
    # "protocol__veterinarian"); a test checks `data` reads nothing else.
    printed: tuple[str, ...] = ()
    # The lean read of a GET: `probe(user, pk)` is the kind's selector (same
    # visibility: Http404 for what the user may not see) returning the
    # target's printed-rows digest, the stored row that may be current and
    # the download name, or None when only the full path can answer.
    probe: Callable[[Any, int], DocumentProbe | None] | None = None
    # The target by primary key with everything `data` reads (internal).
    load: Callable[[int], T] | None = None

    def fingerprint(self, target: T) -> str:
        # Documents print in the lab's language whatever the reader's (labels
        # are lazy: they turn into text inside canonical_json). A request in
        # English must get the fingerprint the worker stores, or every GET
        # would start another job.
        with translation.override(settings.LANGUAGE_CODE):
            return document_fingerprint(
                self.data(target), renderer=self.renderer_version()
            )

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


@dataclass(frozen=True)
class DocumentProbe:
    """What a GET needs to serve a current file without loading the target.

    `digest`: the printed-rows digest (`printed_digest`) of the target as read
    in the same statement as `stored`, the newest stored row that may be the
    current one as "fingerprint sha256 file" (None when there is none)."""

    digest: str
    stored: str | None
    filename: str


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
    # One INSERT on the common path; a rerun (or a concurrent run) finds the
    # row the model's unique (owner, unique_by) constraint kept.
    new_row = kind.model(**key, **fields)
    if insert_unless_conflict(new_row):
        return new_row
    row = manager.get(**key)
    if row.fingerprint != fingerprint:
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
    with translation.override(settings.LANGUAGE_CODE):  # see fingerprint()
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


# ---------------------------------------------------------------- fast serving
# Serving a cached file must not recompute its fingerprint: that means loading
# everything the document prints (a work order's lines and protocols, a
# report's protocol and veterinarian) on every GET. Instead, PostgreSQL hashes
# the text of every row the document prints (`printed_digest`: each row's text
# holds all its columns) in the same statement that checks visibility and finds
# the stored row. The fingerprint is a pure function of those rows, the
# settings, the active language and time zone and the renderer version, so a
# process remembers the fingerprint of each digest it has seen. Any write to a
# printed row (a service, the admin, a queryset.update(), raw SQL) changes the
# digest; the next GET misses the memo and recomputes from the rows themselves.
# The memo is filled inside one REPEATABLE READ snapshot: the digest and the
# data the fingerprint is computed from are the same rows.
FINGERPRINT_MEMO_SIZE = 20_000
_FINGERPRINTS: dict[tuple[Any, ...], str] = {}

# Digest of a set of rows: SHA-256 of their text in primary-key order (empty
# set: the digest of ""). A row's text (`CAST(row AS text)`) is every column.
_ROWS_DIGEST = (
    "(SELECT encode(sha256(convert_to(coalesce(string_agg(CAST(_printed AS text),"
    " ',' ORDER BY _printed.%(pk)s), ''), 'UTF8')), 'hex') FROM (%(subquery)s)"
    " _printed)"
)


def printed_relation(
    model: type[models.Model], path: str
) -> tuple[type[models.Model], bool, str]:
    """(related model, forward, back): the model at relation `path` from
    `model`, whether the path only follows foreign keys (then one row, whose
    id the outer row's join gives), and the lookup from the related model
    back to `model` (for paths through reverse relations)."""
    related: type[models.Model] = model
    forward = True
    back: list[str] = []
    for name in path.split("__"):
        field: Any = related._meta.get_field(name)
        if field.concrete:  # a foreign key or one-to-one on this side
            back.insert(0, field.related_query_name())
        else:  # a reverse relation: back through the remote foreign key
            forward = False
            back.insert(0, field.field.name)
        related = field.related_model
    return related, forward, "__".join(back)


def _rows_of(model: type[models.Model], path: str) -> QuerySet[Any]:
    """The rows at relation `path` from one `model` row (OuterRef("pk")), as
    a queryset of the related model."""
    related, forward, back = printed_relation(model, path)
    manager = related._default_manager
    if forward:
        return manager.filter(pk=OuterRef(path)).order_by()
    return manager.filter(**{back: OuterRef("pk")}).order_by()


def printed_digest(model: type[models.Model], paths: tuple[str, ...]) -> Any:
    """An expression for a `model` queryset: the digest of the row itself and
    of the rows at each relation path (PostgreSQL). Equal digests mean equal
    printed rows."""
    parts = [
        Subquery(
            queryset,
            output_field=CharField(),
            template=_ROWS_DIGEST,
            pk=connections["default"].ops.quote_name(queryset.model._meta.pk.column),
        )
        for queryset in [
            model._default_manager.filter(pk=OuterRef("pk")).order_by(),
            *(_rows_of(model, path) for path in paths),
        ]
    ]
    return Concat(*parts, output_field=CharField()) if len(parts) > 1 else parts[0]


def _memo_key(kind: DocumentKind[Any, Any], pk: int, digest: str) -> tuple[Any, ...]:
    return (
        kind.name,
        pk,
        digest,
        kind.renderer_version(),
        timezone.get_current_timezone_name(),
    )


def _target_model(kind: DocumentKind[Any, Any]) -> type[models.Model]:
    model: type[models.Model] = kind.model._meta.get_field(kind.owner).related_model
    return model


def _memo_fill(kind: DocumentKind[Any, Any], pk: int) -> tuple[str, str] | None:
    """(digest, fingerprint) of the target now, read in one snapshot, and
    remembered; None when it cannot be computed here (inside a transaction
    whose isolation is not ours to set, or the target has no document)."""
    connection = connections["default"]
    if kind.load is None or connection.in_atomic_block:
        return None
    model = _target_model(kind)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        row = prepared_row(
            ("documents.digest", kind.name),
            lambda marks: model._default_manager.filter(pk=marks["pk"])
            .order_by()
            .values("pk")
            .annotate(printed=printed_digest(model, kind.printed)),
            pk=pk,
        )
        if row is None:
            return None
        try:
            fingerprint = kind.fingerprint(kind.load(pk))
        except (DomainError, ObjectDoesNotExist):
            return None
    if len(_FINGERPRINTS) >= FINGERPRINT_MEMO_SIZE:
        _FINGERPRINTS.clear()
    _FINGERPRINTS[_memo_key(kind, pk, row["printed"])] = fingerprint
    return row["printed"], fingerprint


def document_serve_current(
    request: HttpRequest, kind: DocumentKind[Any, Any], *, pk: int
) -> HttpResponseBase | None:
    """The response serving the target's current file (ETag, 304) when the
    kind's lean probe proves it current; None when the caller must take the
    full path (`get_for` + `document_get_or_start`): no fast path on this
    database, no stored file, a stale one, or data changing right now.

    Raises Http404 (or a role error) exactly like the kind's selector: the
    probe applies the same visibility rule."""
    if kind.probe is None or connections["default"].vendor != "postgresql":
        return None
    probe = kind.probe(request.user, pk)
    if probe is None or not probe.stored:
        return None
    fingerprint = _FINGERPRINTS.get(_memo_key(kind, pk, probe.digest))
    if fingerprint is None:
        filled = _memo_fill(kind, pk)
        if filled is None or filled[0] != probe.digest:
            return None
        fingerprint = filled[1]
    stored_fingerprint, sha256, path = probe.stored.split(" ", 2)
    if stored_fingerprint != fingerprint:
        return None
    return file_response(
        request,
        path=path,
        sha256=sha256,
        filename=probe.filename,
        content_type=kind.content_type,
    )


def stored_row(queryset: QuerySet[Any]) -> Subquery:
    """For a probe: "fingerprint sha256 file" of the first row of a stored-
    document queryset (filtered on OuterRef), or NULL."""
    return Subquery(
        queryset.annotate(
            probe=Concat(
                "fingerprint",
                Value(" "),
                "sha256",
                Value(" "),
                "file",
                output_field=CharField(),
            )
        ).values("probe")[:1],
        output_field=CharField(),
    )


@receiver(setting_changed)
def _forget_fingerprints(**kwargs: Any) -> None:
    # What a document prints may read any setting (LAB_NAME, SITE_URL...).
    _FINGERPRINTS.clear()
