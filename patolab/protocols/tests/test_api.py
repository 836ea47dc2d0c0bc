from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from patolab.protocols.models import Protocol, ProtocolStatus, Reception

from .factories import histo_data, make_protocol, make_received

pytestmark = pytest.mark.django_db
S = ProtocolStatus


def post_data(**overrides):
    data = histo_data(**overrides)
    if data.get("sampling_date") is not None and not isinstance(
        data["sampling_date"], str
    ):
        data["sampling_date"] = data["sampling_date"].isoformat()
    return data


def assert_error(response, status, code=None, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert body["detail"]
    if code:
        assert body["code"] == code
    if field:
        assert field in body["errors"], body
    return body


# ---------------------------------------------------------------- create
def test_vet_creates_protocol_and_gets_201(api, vet_owner):
    response = api(vet_owner).post("/api/v1/protocols", post_data())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted"
    assert body["temporary_code"].startswith("TMP-HP-")
    assert body["protocol_number"] is None
    assert body["label_url"] is None
    assert body["report"] is None
    assert body["veterinarian"] == {
        "id": vet_owner.veterinarian.pk,
        "name": "Ana Owner",
    }
    assert body["containers"] == 2


@pytest.mark.parametrize(
    "field", ["analysis_type", "species", "animal_name", "sampling_date"]
)
def test_missing_required_field_is_400_naming_it(api, vet_owner, field):
    data = post_data()
    data.pop(field)
    body = assert_error(
        api(vet_owner).post("/api/v1/protocols", data), 400, "invalid", field
    )
    assert body["errors"][field] == ["Este campo es obligatorio."]
    assert Protocol.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sampling_date": "mañana"}, "sampling_date"),
        ({"containers": 0}, "containers"),
        ({"containers": "muchos"}, "containers"),
        ({"species": "Unicornio"}, "species"),
        ({"analysis_type": "autopsia"}, "analysis_type"),
    ],
)
def test_invalid_field_is_400_naming_it(api, vet_owner, overrides, field):
    assert_error(
        api(vet_owner).post("/api/v1/protocols", post_data(**overrides)),
        400,
        "invalid",
        field,
    )
    assert Protocol.objects.count() == 0


def test_future_sampling_date_is_400(api, vet_owner):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    body = assert_error(
        api(vet_owner).post("/api/v1/protocols", post_data(sampling_date=future)),
        400,
        "invalid",
        "sampling_date",
    )
    assert body["errors"]["sampling_date"] == [
        "La fecha de toma de muestra no puede ser futura."
    ]


def test_staff_cannot_submit_protocols(api, technician):
    assert_error(api(technician).post("/api/v1/protocols", post_data()), 403)


def test_vet_with_incomplete_profile_gets_403(api, vet_owner):
    vet = vet_owner.veterinarian
    vet.phone = ""
    vet.save()
    assert_error(
        api(vet_owner).post("/api/v1/protocols", post_data()), 403, "profile_incomplete"
    )
    assert Protocol.objects.count() == 0


def test_admin_must_name_an_existing_veterinarian(api, admin):
    client = api(admin)
    assert_error(
        client.post("/api/v1/protocols", post_data()), 400, field="veterinarian_id"
    )
    assert_error(
        client.post("/api/v1/protocols", post_data(veterinarian_id=424242)),
        400,
        field="veterinarian_id",
    )


def test_admin_submits_for_a_veterinarian(api, admin, vet_owner):
    data = post_data(veterinarian_id=vet_owner.veterinarian.pk)
    response = api(admin).post("/api/v1/protocols", data)
    assert response.status_code == 201, response.content
    assert Protocol.objects.get().veterinarian == vet_owner.veterinarian


def test_no_token_is_401(api):
    assert api(None).get("/api/v1/protocols").status_code == 401


# ---------------------------------------------------------------- visibility
def test_vet_lists_only_own_protocols(api, vet_owner, vet_other):
    mine = make_protocol(vet_owner)
    make_protocol(vet_other)
    body = api(vet_owner).get("/api/v1/protocols").json()
    assert body["count"] == 1
    assert [p["id"] for p in body["results"]] == [mine.pk]


def test_other_vet_gets_404(api, vet_owner, vet_other):
    theirs = make_protocol(vet_other)
    client = api(vet_owner)
    assert_error(client.get(f"/api/v1/protocols/{theirs.pk}"), 404, "not_found")
    assert_error(client.get(f"/api/v1/protocols/{theirs.pk}/history"), 404)
    assert_error(client.get("/api/v1/protocols/999999"), 404)


def test_vet_gets_403_on_staff_endpoints(api, vet_owner):
    protocol = make_protocol(vet_owner)
    client = api(vet_owner)
    assert_error(
        client.post(
            f"/api/v1/protocols/{protocol.pk}/receive",
            {"sample_condition": "optimal", "containers": 2},
        ),
        403,
    )
    assert_error(
        client.post(f"/api/v1/protocols/{protocol.pk}/reject", {"reason": "x"}), 403
    )
    assert_error(
        client.post(f"/api/v1/protocols/{protocol.pk}/status", {"status": "cancelled"}),
        403,
    )
    assert_error(
        client.get("/api/v1/protocols/lookup", code=protocol.temporary_code), 403
    )
    assert Protocol.objects.get(pk=protocol.pk).status == S.SUBMITTED


def test_list_filters_and_search(api, vet_owner, technician):
    luna = make_protocol(vet_owner, animal_name="Luna")
    make_protocol(vet_owner, kind="cytology", animal_name="Tom")
    received = make_received(vet_owner, technician, animal_name="Rocco")
    client = api(technician)
    assert (
        client.get("/api/v1/protocols", q="luna").json()["results"][0]["id"] == luna.pk
    )
    assert (
        client.get("/api/v1/protocols", analysis_type="cytology").json()["count"] == 1
    )
    assert client.get("/api/v1/protocols", status="received").json()["count"] == 1
    today = timezone.localdate().isoformat()
    body = client.get(
        "/api/v1/protocols", received_from=today, received_to=today
    ).json()
    assert [p["id"] for p in body["results"]] == [received.pk]
    assert (
        client.get("/api/v1/protocols", q=received.protocol_number).json()["count"] == 1
    )
    page = client.get("/api/v1/protocols", page_size=2).json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"]


# ---------------------------------------------------------------- lookup
def test_lookup_by_temporary_code_and_number(api, vet_owner, technician):
    pending = make_protocol(vet_owner)
    received = make_received(vet_owner, technician)
    client = api(technician)
    body = client.get(
        "/api/v1/protocols/lookup", code=f"  {pending.temporary_code.lower()} "
    ).json()
    assert body["id"] == pending.pk
    number = received.protocol_number  # e.g. "HP 26/002"
    squashed = number.replace(" ", "").lower()  # "hp26/002"
    assert client.get("/api/v1/protocols/lookup", code=squashed).json()["id"] == (
        received.pk
    )
    assert_error(client.get("/api/v1/protocols/lookup", code="HP 99/999"), 404)
    assert_error(client.get("/api/v1/protocols/lookup", code=""), 400, field="code")


# ---------------------------------------------------------------- receive / reject
def test_receive_returns_protocol_with_number(api, vet_owner, technician):
    protocol = make_protocol(vet_owner)
    response = api(technician).post(
        f"/api/v1/protocols/{protocol.pk}/receive",
        {"sample_condition": "optimal", "containers": 2, "notes": "ok"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "received"
    assert body["protocol_number"].startswith("HP ")
    assert body["label_url"] == f"/api/v1/protocols/{protocol.pk}/label.pdf"
    assert body["reception"]["containers"] == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sample_condition": "optimal", "containers": 0}, "containers"),
        ({"sample_condition": "optimal"}, "containers"),
        ({"sample_condition": "mala", "containers": 2}, "sample_condition"),
        ({"sample_condition": "optimal", "containers": 3}, "discrepancies"),
        ({"sample_condition": "optimal", "containers": "tres"}, "containers"),
    ],
)
def test_bad_receive_input_is_400_and_changes_nothing(
    api, vet_owner, technician, payload, field
):
    protocol = make_protocol(vet_owner)
    assert_error(
        api(technician).post(f"/api/v1/protocols/{protocol.pk}/receive", payload),
        400,
        "invalid",
        field,
    )
    fresh = Protocol.objects.get(pk=protocol.pk)
    assert (fresh.status, fresh.protocol_number) == (S.SUBMITTED, None)
    assert not Reception.objects.exists()


def test_receiving_twice_is_409(api, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    number = protocol.protocol_number
    assert_error(
        api(technician).post(
            f"/api/v1/protocols/{protocol.pk}/receive",
            {"sample_condition": "optimal", "containers": 2},
        ),
        409,
        "already_received",
    )
    assert Protocol.objects.get(pk=protocol.pk).protocol_number == number


def test_receiving_a_rejected_protocol_is_409(api, vet_owner, technician):
    protocol = make_protocol(vet_owner)
    client = api(technician)
    response = client.post(
        f"/api/v1/protocols/{protocol.pk}/reject", {"reason": "Frasco roto"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert_error(
        client.post(
            f"/api/v1/protocols/{protocol.pk}/receive",
            {"sample_condition": "optimal", "containers": 2},
        ),
        409,
        "protocol_rejected",
    )
    assert not Reception.objects.exists()


def test_reject_without_reason_is_400(api, vet_owner, technician):
    protocol = make_protocol(vet_owner)
    assert_error(
        api(technician).post(f"/api/v1/protocols/{protocol.pk}/reject", {}),
        400,
        field="reason",
    )
    assert Protocol.objects.get(pk=protocol.pk).status == S.SUBMITTED


# ---------------------------------------------------------------- status / history
def test_status_change_and_history(api, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    client = api(technician)
    response = client.post(
        f"/api/v1/protocols/{protocol.pk}/status",
        {"status": "processing", "note": "Inclusión en parafina"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "processing"
    history = api(vet_owner).get(f"/api/v1/protocols/{protocol.pk}/history").json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("draft", "submitted"),
        ("submitted", "received"),
        ("received", "processing"),
    ]
    assert history[-1]["changed_by"] == technician.username
    assert history[-1]["note"] == "Inclusión en parafina"


@pytest.mark.parametrize("target", ["submitted", "ready", "report_sent", "draft"])
def test_invalid_status_change_is_409_and_changes_nothing(
    api, vet_owner, technician, target
):
    protocol = make_received(vet_owner, technician)
    history = protocol.history.count()
    assert_error(
        api(technician).post(
            f"/api/v1/protocols/{protocol.pk}/status", {"status": target}
        ),
        409,
    )
    fresh = Protocol.objects.get(pk=protocol.pk)
    assert fresh.status == S.RECEIVED
    assert fresh.history.count() == history


def test_unknown_status_is_400(api, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    assert_error(
        api(technician).post(
            f"/api/v1/protocols/{protocol.pk}/status", {"status": "perdido"}
        ),
        400,
        field="status",
    )


# ---------------------------------------------------------------- bulk
def test_bulk_status_is_admin_only(api, technician):
    assert_error(
        api(technician).post(
            "/api/v1/protocols/bulk-status",
            {"protocol_ids": [1], "status": "processing"},
        ),
        403,
    )


def test_bulk_status_validates_input(api, admin):
    client = api(admin)
    assert_error(
        client.post(
            "/api/v1/protocols/bulk-status",
            {"protocol_ids": [], "status": "processing"},
        ),
        400,
        field="protocol_ids",
    )
    assert_error(
        client.post(
            "/api/v1/protocols/bulk-status", {"protocol_ids": [1], "status": "x"}
        ),
        400,
        field="status",
    )


def test_bulk_status_answers_202_with_job(api, admin, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    response = api(admin).post(
        "/api/v1/protocols/bulk-status",
        {"protocol_ids": [protocol.pk], "status": "processing"},
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "protocols.bulk_status"
    assert response["Location"] == body["url"]


def test_list_shows_each_protocols_latest_report_version(
    api, vet_owner, technician, pathologist
):
    from patolab.reports.models import Report

    with_reports = make_received(vet_owner, technician)
    without = make_received(vet_owner, technician)
    first = Report.objects.create(
        protocol=with_reports, histopathologist=pathologist, status="finalized"
    )
    second = Report.objects.create(
        protocol=with_reports,
        histopathologist=pathologist,
        version=2,
        supersedes=first,
        status="draft",
    )
    rows = {
        row["id"]: row
        for row in api(technician)
        .get("/api/v1/protocols", page_size=200)
        .json()["results"]
    }
    assert rows[with_reports.pk]["report"] == {"id": second.pk, "status": "draft"}
    assert rows[without.pk]["report"] is None
    assert api(technician).get(f"/api/v1/protocols/{with_reports.pk}").json()[
        "report"
    ] == {"id": second.pk, "status": "draft"}


# ------------------------------------------------------- list rows (no models)
@pytest.mark.parametrize("who", ["vet", "staff"])
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"page_size": 2, "page": 2},
        {"status": "received"},
        {"status": "received", "analysis_type": "histopathology"},
        {"q": "luna"},
        {"received_from": "2000-01-01"},
    ],
)
def test_list_rows_print_what_the_detail_prints(
    api, vet_owner, vet_other, technician, pathologist, who, query
):
    """The list serializes plain rows (`protocol_row_to_dict`), not models:
    each result must equal the protocol's own `protocol_to_dict`, key order
    included, on the prepared path (plain filters) and the compiled one
    (search, dates), and the count must be the visible matches."""
    from patolab.protocols.selectors import protocol_get_for, protocol_list_for
    from patolab.protocols.serializers import protocol_to_dict
    from patolab.reports.models import Report

    make_protocol(vet_owner, animal_name="Luna")
    make_protocol(vet_owner, kind="cytology", animal_name="Tom")
    received = make_received(vet_owner, technician, animal_name="Luna")
    make_received(vet_other, technician, animal_name="Luna")
    Report.objects.create(
        protocol=received, histopathologist=pathologist, status="finalized"
    )
    user = vet_owner if who == "vet" else technician
    body = api(user).get("/api/v1/protocols", **query).json()
    filters = {k: v for k, v in query.items() if k not in ("page", "page_size")}
    expected = protocol_list_for(user=user, filters=filters)
    assert body["count"] == expected.count() > 0
    page_size = query.get("page_size", 50)
    start = (query.get("page", 1) - 1) * page_size
    ids = list(expected.values_list("pk", flat=True)[start : start + page_size])
    assert [row["id"] for row in body["results"]] == ids
    for row in body["results"]:
        detail = protocol_to_dict(protocol_get_for(user=user, pk=row["id"]))
        assert list(row.items()) == list(detail.items())


def test_list_page_past_the_end_still_counts(api, vet_owner):
    for _ in range(3):
        make_protocol(vet_owner)
    body = api(vet_owner).get("/api/v1/protocols", page_size=2, page=5).json()
    assert body["count"] == 3
    assert body["results"] == []
    assert body["next"] is None
    assert body["previous"]
