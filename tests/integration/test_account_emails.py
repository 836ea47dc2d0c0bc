"""Account e-mails through the real pipeline: a real worker delivers over real
SMTP, and the link in the received message is what the user follows."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from patolab.accounts.models import User

pytestmark = pytest.mark.integration


def text_part(msg) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset())
    raise AssertionError("no text/plain part")


def link_path(msg) -> str:
    match = re.search(r"https?://[^/\s]+(/cuentas/\S+)", text_part(msg))
    assert match, text_part(msg)
    return match.group(1)


def test_registration_mail_link_activates_account_and_login_works(
    celery_worker, smtp_sink, wait
):
    client = Client()
    response = client.post(
        reverse("accounts:register"),
        {
            "username": "dr_ibarra",
            "full_name": "Tomás Ibarra",
            "email": "tomas@clinica.example",
            "password1": "caballos-y-vacas-7",
            "password2": "caballos-y-vacas-7",
        },
    )
    assert response.status_code == 302
    [msg] = wait(lambda: smtp_sink.messages)
    assert msg["X-Envelope-To"] == "tomas@clinica.example"
    assert not client.login(username="dr_ibarra", password="caballos-y-vacas-7")

    activated = client.get(link_path(msg), follow=True)
    assert "Su e-mail quedó verificado" in activated.content.decode()
    login = client.post(
        reverse("accounts:login"),
        {"username": "dr_ibarra", "password": "caballos-y-vacas-7"},
    )
    assert login.status_code == 302
    assert User.objects.get(username="dr_ibarra").is_active


def test_password_reset_end_to_end_over_smtp(celery_worker, smtp_sink, vet_owner, wait):
    client = Client()
    client.post(reverse("accounts:password-reset"), {"email": "nadie@x.example"})
    client.post(reverse("accounts:password-reset"), {"email": vet_owner.email})
    [msg] = wait(lambda: smtp_sink.messages)
    assert msg["X-Envelope-To"] == vet_owner.email
    form = client.get(link_path(msg), follow=True)
    assert form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "clave-nueva-larga-3",
            "new_password2": "clave-nueva-larga-3",
        },
        follow=True,
    )
    assert "Su contraseña fue cambiada" in done.content.decode()
    assert Client().login(username="vet_owner", password="clave-nueva-larga-3")
    assert not Client().login(username="vet_owner", password="secreto-de-prueba")
    assert len(smtp_sink.messages) == 1  # the unknown address got nothing
