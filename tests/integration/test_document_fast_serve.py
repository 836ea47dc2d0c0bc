"""Serving a current document without recomputing its fingerprint
(`document_serve_current`, PostgreSQL).

A GET proves a stored file current from one lean query: the target's
printed-rows digest (PostgreSQL hashes the text of every row the document
prints) and the stored row, then a per-process memo maps the digest to the
fingerprint. These tests hold that shortcut to the full path's rule: every
row the document's data function reads is in the digest, any write to such a
row (even a queryset.update() that no service sees) changes the digest, a
settings or renderer change is never served from the memo, and visibility is
the selectors' (another veterinarian's file is a 404, a wrong role a 403).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, models
from django.db.models import Value
from django.db.models.functions import Concat
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings

from patolab.accounts.models import User
from patolab.core import documents
from patolab.core.documents import (
    DocumentKind,
    document_build,
    document_kind_get,
    document_serve_current,
)
from patolab.protocols.tests.factories import make_received
from patolab.reports.services import (
    report_create,
    report_finalize_execute,
    report_request_finalize,
)
from patolab.workorders.services import workorder_create
from patolab.workorders.tests.factories import make_catalog

pytestmark = pytest.mark.integration


@dataclass
class Target:
    kind: DocumentKind[Any, Any]
    pk: int
    reader: User
    page_url: str
    api_url: str


@pytest.fixture
def postgres(transactional_db: None) -> None:
    # Outside a test transaction: the memo is only filled in a snapshot of
    # its own (REPEATABLE READ), which a wrapping transaction would forbid.
    if connection.vendor != "postgresql":
        pytest.skip("the fast serving path is PostgreSQL's")


@pytest.fixture
def targets(
    postgres: None, vet_owner: User, technician: User, pathologist: User
) -> Iterator[dict[str, Target]]:
    from django.db import transaction

    make_catalog()
    protocol = make_received(vet_owner, technician, animal_name="Tobi")
    label_kind = document_kind_get("labels")
    assert label_kind.load is not None
    document_build(label_kind, label_kind.load(protocol.pk))

    wo_protocol = make_received(vet_owner, technician)
    work_order = workorder_create(
        veterinarian=vet_owner.veterinarian,
        protocols=[wo_protocol],
        tax_condition="consumidor_final",
        created_by=technician,
    )
    wo_kind = document_kind_get("workorder")
    assert wo_kind.load is not None
    document_build(wo_kind, wo_kind.load(work_order.pk))

    report_protocol = make_received(vet_owner, technician, animal_name="Luna")
    report = report_create(
        protocol=report_protocol, histopathologist=pathologist, diagnosis="Lipoma."
    )
    with transaction.atomic():
        report_request_finalize(report=report, user=pathologist)
    report_finalize_execute(report_id=report.pk, user_id=pathologist.pk)

    documents._FINGERPRINTS.clear()
    yield {
        "labels": Target(
            label_kind,
            protocol.pk,
            technician,
            f"/etiquetas/protocolo/{protocol.pk}/",
            f"/api/v1/protocols/{protocol.pk}/label.pdf",
        ),
        "workorder": Target(
            wo_kind,
            work_order.pk,
            vet_owner,
            f"/ordenes/{work_order.pk}/pdf/",
            f"/api/v1/workorders/{work_order.pk}/pdf",
        ),
        "report": Target(
            document_kind_get("report"),
            report.pk,
            vet_owner,
            f"/informes/{report.pk}/pdf/",
            f"/api/v1/reports/{report.pk}/pdf",
        ),
    }
    documents._FINGERPRINTS.clear()


def serve(target: Target, user: User | None = None) -> Any:
    request = RequestFactory().get(target.page_url)
    request.user = user or target.reader
    return document_serve_current(request, target.kind, pk=target.pk)


def target_model(kind: DocumentKind[Any, Any]) -> type[models.Model]:
    model: type[models.Model] = kind.model._meta.get_field(kind.owner).related_model
    return model


def tables_read(sql_list: list[str]) -> set[str]:
    return {
        name
        for sql in sql_list
        for name in re.findall(r'(?:FROM|JOIN)\s+"([a-z_0-9]+)"', sql)
    }


KINDS = ["labels", "workorder", "report"]


@pytest.mark.parametrize("name", KINDS)
def test_the_digest_covers_every_row_the_data_function_reads(
    name: str, targets: dict[str, Target]
) -> None:
    target = targets[name]
    model = target_model(target.kind)
    bare = model._default_manager.get(pk=target.pk)  # no select_related
    with CaptureQueriesContext(connection) as queries:
        target.kind.data(bare)
    covered = {model._meta.db_table} | {
        documents.printed_relation(model, path)[0]._meta.db_table
        for path in target.kind.printed
    }
    read = tables_read([q["sql"] for q in queries.captured_queries])
    assert read, "the data function read no related row: is `bare` prefetched?"
    assert read <= covered, f"add the relation to `printed`: {read - covered}"


@pytest.mark.parametrize("name", KINDS)
def test_a_current_file_is_served_with_one_query_and_304_on_its_etag(
    name: str, targets: dict[str, Target], login: Callable[[User], Client]
) -> None:
    target = targets[name]
    first = serve(target)  # fills the memo
    assert first is not None
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = serve(target)
    assert again is not None
    assert again.status_code == 200
    assert len(queries) == 1
    assert again["ETag"] == first["ETag"]
    assert again["Content-Type"] == "application/pdf"
    assert b"".join(again.streaming_content).startswith(b"%PDF")

    browser = login(target.reader)
    response = browser.get(target.page_url, headers={"If-None-Match": first["ETag"]})
    assert response.status_code == 304
    assert response["ETag"] == first["ETag"]


def _rows_at(model: type[models.Model], path: str, pk: int) -> models.QuerySet[Any]:
    if not path:
        return model._default_manager.filter(pk=pk)
    related, forward, back = documents.printed_relation(model, path)
    if forward:
        ids = model._default_manager.filter(pk=pk).values(path)
        return related._default_manager.filter(pk__in=ids)
    return related._default_manager.filter(**{back: pk})


def _touch(rows: models.QuerySet[Any]) -> None:
    """Change the rows' content behind every service's back."""
    text = next(
        (
            field
            for field in rows.model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField)
            and not field.unique
            and not field.primary_key
            and not field.choices  # a status the probe filters on
            and field.name not in ("file", "pdf_file", "password")
        ),
        None,
    )
    if text is None:  # only keys (a link row): the set of rows changes
        assert rows.delete()[0] >= 1
    else:
        assert rows.update(**{text.name: Concat(text.name, Value("·"))}) >= 1


@pytest.mark.parametrize(
    ("name", "path"),
    [
        (name, path)
        for name in KINDS
        for path in ("", *document_kind_get(name).printed)
        if not (name == "report" and path == "supersedes")  # first versions: none
    ],
)
def test_any_write_to_a_printed_row_changes_the_digest(
    name: str, path: str, targets: dict[str, Target]
) -> None:
    target = targets[name]
    assert target.kind.probe is not None
    before = target.kind.probe(target.reader, target.pk)
    assert before is not None
    _touch(_rows_at(target_model(target.kind), path, target.pk))
    after = target.kind.probe(target.reader, target.pk)
    assert after is not None
    assert after.digest != before.digest


@pytest.mark.parametrize("name", KINDS)
def test_a_printed_change_settings_or_renderer_are_never_served_from_the_memo(
    name: str, targets: dict[str, Target], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = targets[name]
    assert serve(target) is not None  # memo filled, file current

    with override_settings(LAB_NAME="Otro laboratorio", SITE_URL="https://otro.test"):
        assert serve(target) is None
    assert serve(target) is not None

    module = {
        "labels": "patolab.labels.render",
        "workorder": "patolab.workorders.pdf",
        "report": "patolab.reports.pdf",
    }[name]
    import importlib

    renderer = importlib.import_module(module)
    with monkeypatch.context() as patch:
        patch.setattr(renderer, "RENDERER_VERSION", renderer.RENDERER_VERSION + "-x")
        assert serve(target) is None
    assert serve(target) is not None

    model = target_model(target.kind)
    if name == "workorder":
        model._default_manager.filter(pk=target.pk).update(notes="Nueva nota.")
    else:
        protocol_pk = (
            target.pk
            if name == "labels"
            else model._default_manager.get(pk=target.pk).protocol_id  # type: ignore[attr-defined]
        )
        from patolab.protocols.models import Protocol

        Protocol.objects.filter(pk=protocol_pk).update(animal_name="Otro nombre")
    assert serve(target) is None


@pytest.mark.parametrize("name", ["workorder", "report"])
def test_another_veterinarians_file_is_a_404(
    name: str,
    targets: dict[str, Target],
    vet_other: User,
    login: Callable[[User], Client],
    api: Any,
) -> None:
    target = targets[name]
    assert serve(target) is not None  # the memo is warm for the owner's file
    assert serve(target, vet_other) is None
    assert login(vet_other).get(target.page_url).status_code == 404
    assert api(vet_other).get(target.api_url).status_code == 404


def test_labels_are_for_the_lab_only(
    targets: dict[str, Target],
    vet_owner: User,
    login: Callable[[User], Client],
    api: Any,
) -> None:
    target = targets["labels"]
    assert serve(target) is not None
    assert serve(target, vet_owner) is None
    assert login(vet_owner).get(target.page_url).status_code == 403
    assert api(vet_owner).get(target.api_url).status_code == 403
