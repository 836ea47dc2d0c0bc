"""Staff dashboard counts and the protocol list's veterinarian filter and sort."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import make_vet
from patolab.protocols.models import Counter, Protocol
from patolab.protocols.selectors import protocol_list_for, protocol_overdue_q
from patolab.protocols.tests.factories import make_protocol, make_received

pytestmark = pytest.mark.django_db


def codes(response) -> list[str]:
    return [row.protocol.code for row in response.context["rows"]]


def test_list_filters_by_veterinarian(login, technician, vet_owner, vet_other):
    make_protocol(vet_owner, animal_name="DeAna")
    make_protocol(vet_other, animal_name="DeBruno")
    vet = vet_other.veterinarian
    response = login(technician).get("/protocolos/", {"veterinarian": vet.pk})
    assert [r.protocol.animal_name for r in response.context["rows"]] == ["DeBruno"]
    html = response.content.decode()
    assert f'<option value="{vet.pk}" selected>Bruno Other</option>' in html


def test_vets_get_no_veterinarian_or_overdue_filter(login, vet_owner, vet_other):
    make_protocol(vet_owner)
    other = make_protocol(vet_other)
    response = login(vet_owner).get(
        "/protocolos/", {"veterinarian": vet_other.veterinarian.pk}
    )
    html = response.content.decode()
    assert 'name="veterinarian"' not in html
    assert 'name="overdue"' not in html
    assert other.code not in html  # still only their own


def test_list_sorts_by_number_numerically_and_by_date(login, technician, vet_owner):
    first = make_received(vet_owner, technician)
    second = make_received(vet_owner, technician)
    # The thousandth protocol of the year must sort after the 999th.
    year = timezone.localdate().year
    Counter.objects.filter(key=f"protocol:HP:{year}").update(value=999)
    late = make_received(vet_owner, technician)
    assert late.protocol_number.endswith("/1000")
    pending = make_protocol(vet_owner)
    Protocol.objects.filter(pk=pending.pk).update(
        submitted_at=timezone.now() + timedelta(minutes=5)
    )
    client = login(technician)
    ascending = codes(client.get("/protocolos/", {"sort": "number"}))
    assert ascending == [
        first.protocol_number,
        second.protocol_number,
        late.protocol_number,
        pending.temporary_code,
    ]
    descending = codes(client.get("/protocolos/", {"sort": "-number"}))
    assert descending[:3] == ascending[2::-1]
    assert codes(client.get("/protocolos/", {"sort": "date"}))[-1] == pending.code
    assert codes(client.get("/protocolos/", {"sort": "-date"}))[0] == pending.code
    assert codes(client.get("/protocolos/"))[0] == pending.code  # default
    html = client.get("/protocolos/", {"sort": "number", "page": "1"}).content.decode()
    assert 'aria-sort="ascending"' in html
    assert "?sort=-number" in html  # the header toggles the direction


def test_overdue_filter_matches_the_overdue_rule(login, technician, vet_owner):
    cyto = make_received(vet_owner, technician, kind="cytology")
    histo = make_received(vet_owner, technician)
    now = timezone.now()
    Protocol.objects.filter(pk=cyto.pk).update(received_at=now - timedelta(days=4))
    Protocol.objects.filter(pk=histo.pk).update(received_at=now - timedelta(days=4))
    assert list(
        Protocol.objects.filter(protocol_overdue_q()).values_list("pk", flat=True)
    ) == [cyto.pk]
    response = login(technician).get("/protocolos/", {"overdue": "on"})
    assert codes(response) == [cyto.protocol_number]


def test_staff_dashboard_counts_per_status_and_overdue(login, technician, vet_owner):
    make_protocol(vet_owner)
    make_protocol(vet_owner)
    late = make_received(vet_owner, technician, kind="cytology")
    Protocol.objects.filter(pk=late.pk).update(
        received_at=timezone.now() - timedelta(days=5)
    )
    html = re.sub(r"\s+", " ", login(technician).get("/").content.decode())
    assert "Protocolos por estado" in html
    assert '?status=submitted">Enviado</a></td><td class="num">2</td>' in html
    assert '?status=received">Recibido</a></td><td class="num">1</td>' in html
    assert "1 protocolo atrasado" in html
    assert "?overdue=on" in html


def test_list_for_api_filters_accept_ids(technician, vet_owner):
    other = make_vet("tercera", "Tercera Vet")
    make_protocol(vet_owner)
    mine = make_protocol(other.user)
    qs = protocol_list_for(user=technician, filters={"veterinarian": str(other.pk)})
    assert list(qs) == [mine]
