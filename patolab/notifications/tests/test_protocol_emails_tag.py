from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from patolab.notifications import emails
from patolab.notifications.tests.factories import make_received_protocol

pytestmark = pytest.mark.django_db

TEMPLATE = Template("{% load notifications_tags %}{% protocol_emails protocol %}")


def render_for(user, protocol) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return TEMPLATE.render(Context({"request": request, "protocol": protocol}))


def test_staff_see_the_email_log_of_a_protocol(technician, vet_owner):
    protocol = make_received_protocol(vet_owner)
    emails.protocol_received(protocol=protocol)
    html = render_for(technician, protocol)
    assert "E-mails enviados" in html
    assert "Muestra recibida" in html
    assert "vet_owner@vet.example" in html
    assert "En cola" in html


def test_the_veterinarian_does_not_see_the_email_log(vet_owner):
    protocol = make_received_protocol(vet_owner)
    emails.protocol_received(protocol=protocol)
    assert "E-mails enviados" not in render_for(vet_owner, protocol)
