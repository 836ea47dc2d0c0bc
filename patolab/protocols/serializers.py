"""Protocol -> JSON dicts for the API (API.md field names)."""

from __future__ import annotations

from typing import Any

from .models import Protocol, ProtocolStatusHistory


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def protocol_latest_report(protocol: Protocol) -> dict[str, Any] | None:
    if hasattr(protocol, "latest_report_id"):  # `protocol_list_for_api`
        if protocol.latest_report_id is None:
            return None
        return {
            "id": protocol.latest_report_id,
            "status": protocol.latest_report_status,
        }
    # Uses the prefetch cache when the selector prefetched `reports`.
    reports = list(protocol.reports.all())  # type: ignore[attr-defined]
    if not reports:
        return None
    latest = max(reports, key=lambda r: (r.version, r.pk))
    return {"id": latest.pk, "status": latest.status}


def reception_to_dict(protocol: Protocol) -> dict[str, Any] | None:
    reception = getattr(protocol, "reception", None)
    if reception is None:
        return None
    return {
        "sample_condition": reception.sample_condition,
        "containers": reception.containers_received,
        "discrepancies": reception.discrepancies,
        "notes": reception.notes,
        "received_by": reception.received_by.get_username(),
        "received_at": _iso(reception.received_at),
    }


def protocol_to_dict(protocol: Protocol) -> dict[str, Any]:
    vet = protocol.veterinarian
    received = protocol.protocol_number is not None
    return {
        "id": protocol.pk,
        "analysis_type": protocol.analysis_type,
        "status": protocol.status,
        "temporary_code": protocol.temporary_code,
        "protocol_number": protocol.protocol_number,
        "veterinarian": {"id": vet.pk, "name": vet.full_name},
        "species": protocol.species,
        "breed": protocol.breed,
        "sex": protocol.sex,
        "age": protocol.age,
        "animal_name": protocol.animal_name,
        "owner_name": protocol.owner_name,
        "presumptive_diagnosis": protocol.presumptive_diagnosis,
        "clinical_history": protocol.clinical_history,
        "sample_description": protocol.sample_description,
        "sampling_date": (
            protocol.sampling_date.isoformat() if protocol.sampling_date else None
        ),
        "academic_interest": protocol.academic_interest,
        "technique": protocol.technique,
        "sampling_site": protocol.sampling_site,
        "slides": protocol.slides,
        "material_submitted": protocol.material_submitted,
        "containers": protocol.containers,
        "preservation": protocol.preservation,
        "rejection_reason": protocol.rejection_reason,
        "submitted_at": _iso(protocol.submitted_at),
        "received_at": _iso(protocol.received_at),
        "report_sent_at": _iso(protocol.report_sent_at),
        "reception": reception_to_dict(protocol),
        "label_url": f"/api/v1/protocols/{protocol.pk}/label.pdf" if received else None,
        # The submission slip, printable between submission and reception.
        "slip_url": f"/api/v1/protocols/{protocol.pk}/slip.pdf"
        if protocol.status == "submitted"
        else None,
        "report": protocol_latest_report(protocol),
    }


def protocol_row_to_dict(row: dict[str, Any]) -> dict[str, Any]:
    """`protocol_to_dict` of a row of `API_LIST_COLUMNS` (the list API): the
    same keys in the same order, without model instances."""
    pk = row["id"]
    status = row["status"]
    reception = None
    if row["reception__id"] is not None:
        reception = {
            "sample_condition": row["reception__sample_condition"],
            "containers": row["reception__containers_received"],
            "discrepancies": row["reception__discrepancies"],
            "notes": row["reception__notes"],
            "received_by": row["reception__received_by__username"],
            "received_at": _iso(row["reception__received_at"]),
        }
    report = None
    if row["latest_report_id"] is not None:
        report = {"id": row["latest_report_id"], "status": row["latest_report_status"]}
    return {
        "id": pk,
        "analysis_type": row["analysis_type"],
        "status": status,
        "temporary_code": row["temporary_code"],
        "protocol_number": row["protocol_number"],
        "veterinarian": {
            "id": row["veterinarian_id"],
            "name": row["veterinarian__full_name"],
        },
        "species": row["species"],
        "breed": row["breed"],
        "sex": row["sex"],
        "age": row["age"],
        "animal_name": row["animal_name"],
        "owner_name": row["owner_name"],
        "presumptive_diagnosis": row["presumptive_diagnosis"],
        "clinical_history": row["clinical_history"],
        "sample_description": row["sample_description"],
        "sampling_date": _iso(row["sampling_date"]),
        "academic_interest": row["academic_interest"],
        "technique": row["technique"],
        "sampling_site": row["sampling_site"],
        "slides": row["slides"],
        "material_submitted": row["material_submitted"],
        "containers": row["containers"],
        "preservation": row["preservation"],
        "rejection_reason": row["rejection_reason"],
        "submitted_at": _iso(row["submitted_at"]),
        "received_at": _iso(row["received_at"]),
        "report_sent_at": _iso(row["report_sent_at"]),
        "reception": reception,
        "label_url": f"/api/v1/protocols/{pk}/label.pdf"
        if row["protocol_number"] is not None
        else None,
        "slip_url": f"/api/v1/protocols/{pk}/slip.pdf"
        if status == "submitted"
        else None,
        "report": report,
    }


def history_to_dict(row: ProtocolStatusHistory) -> dict[str, Any]:
    return {
        "from_status": row.from_status or None,
        "to_status": row.to_status,
        "changed_by": row.changed_by.get_username() if row.changed_by else None,
        "changed_at": _iso(row.changed_at),
        "note": row.note,
    }
