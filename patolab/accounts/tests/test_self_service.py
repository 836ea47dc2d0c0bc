"""Veterinarian self-service: registration, verification, profile completion,
password reset request and notification preferences (issue 3, part 6)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from patolab.accounts.models import User, Veterinarian
from patolab.accounts.services import (
    VerificationFailed,
    account_verify,
    email_verification_url,
    veterinarian_register,
)
from patolab.notifications.models import EmailKind, EmailLog

pytestmark = pytest.mark.django_db

GOOD = {
    "username": "dra_suarez",
    "full_name": "Marina  Suárez",
    "email": "Marina@Clinica.example",
    "password1": "gatos-y-perros-2026",
    "password2": "gatos-y-perros-2026",
}


def link_in(log: EmailLog) -> str:
    match = re.search(r"https?://\S+/cuentas/\S+", log.body_text)
    assert match, log.body_text
    return match.group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_registration_creates_inactive_account_and_sends_verification(client):
    response = client.post(reverse("accounts:register"), GOOD)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register-done")
    user = User.objects.get(username="dra_suarez")
    assert not user.is_active
    assert not user.email_verified
    assert user.is_veterinarian
    assert user.email == "marina@clinica.example"
    assert user.veterinarian.full_name == "Marina Suárez"
    log = EmailLog.objects.get(kind=EmailKind.ACCOUNT_VERIFICATION)
    assert log.recipient == "marina@clinica.example"
    assert "/cuentas/verificar/" in link_in(log)
    page = client.get(response["Location"])
    assert "marina@clinica.example" in page.content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"username": "vet_owner"},
            "username",
            "Ese nombre de usuario ya está en uso.",
        ),
        ({"password1": "12345678", "password2": "12345678"}, "password1", "contraseña"),
        (
            {"password2": "otra-cosa-distinta"},
            "password2",
            "Las contraseñas no coinciden.",
        ),
        ({"email": "no-es-un-email"}, "email", "Ingrese un e-mail válido."),
        ({"username": "con espacios"}, "username", ""),
        ({"full_name": ""}, "full_name", "obligatorio"),
    ],
)
def test_bad_registration_shows_error_next_to_field_and_creates_nothing(
    client, vet_owner, change, field, message
):
    users_before = User.objects.count()
    response = client.post(reverse("accounts:register"), {**GOOD, **change})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert User.objects.count() == users_before
    assert not EmailLog.objects.exists()
    assert 'class="field-error"' in response.content.decode()


def test_verification_link_activates_the_account_and_login_works(client):
    vet = veterinarian_register(
        username="nuevo",
        full_name="Nuevo Vet",
        email="nuevo@x.example",
        password="una-clave-larga-1",
    )
    assert not client.login(username="nuevo", password="una-clave-larga-1")
    log = EmailLog.objects.get(kind=EmailKind.ACCOUNT_VERIFICATION)
    response = client.get(path_of(link_in(log)), follow=True)
    assert "Su e-mail quedó verificado" in response.content.decode()
    vet.user.refresh_from_db()
    assert vet.user.is_active
    assert vet.user.email_verified
    assert client.login(username="nuevo", password="una-clave-larga-1")


def test_expired_verification_link_is_refused_in_spanish(client):
    vet = veterinarian_register(
        username="tarde",
        full_name="Vet Tardío",
        email="tarde@x.example",
        password="una-clave-larga-1",
    )
    url = path_of(link_in(EmailLog.objects.get()))
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        response = client.get(url)
    assert response.status_code == 400
    assert "El enlace de verificación venció" in response.content.decode()
    vet.user.refresh_from_db()
    assert not vet.user.is_active
    # Just inside the 24 h it still works.
    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=59)):
        assert client.get(url).status_code == 302


def test_tampered_or_outdated_link_is_refused(vet_owner):
    with pytest.raises(VerificationFailed, match="no es válido"):
        account_verify(token="basura:123:abc")
    url = email_verification_url(user=vet_owner)
    vet_owner.email = "otro@x.example"
    vet_owner.save()
    token = url.rstrip("/").rsplit("/", 1)[-1]
    with pytest.raises(VerificationFailed, match="no es válido"):
        account_verify(token=token)


def test_unverified_user_with_right_password_is_told_to_verify(client):
    veterinarian_register(
        username="pendiente",
        full_name="Vet Pendiente",
        email="p@x.example",
        password="una-clave-larga-1",
    )
    response = client.post(
        reverse("accounts:login"),
        {"username": "pendiente", "password": "una-clave-larga-1"},
    )
    assert "Su cuenta todavía no está activada" in response.content.decode()
    wrong = client.post(
        reverse("accounts:login"), {"username": "pendiente", "password": "mala"}
    )
    assert "todavía no está activada" not in wrong.content.decode()


def test_resend_verification_does_not_reveal_addresses(client, vet_owner):
    veterinarian_register(
        username="pendiente",
        full_name="Vet Pendiente",
        email="p@x.example",
        password="una-clave-larga-1",
    )
    url = reverse("accounts:verify-resend")
    known = client.post(url, {"email": "p@x.example"}, follow=True)
    unknown = client.post(url, {"email": "nadie@x.example"}, follow=True)
    verified = client.post(url, {"email": vet_owner.email}, follow=True)
    for response in (known, unknown, verified):
        assert (
            "Si hay una cuenta pendiente de verificación" in response.content.decode()
        )
    assert EmailLog.objects.filter(recipient="p@x.example").count() >= 1
    assert not EmailLog.objects.filter(recipient="nadie@x.example").exists()
    assert not EmailLog.objects.filter(recipient=vet_owner.email).exists()


def test_login_page_links_to_register_and_password_reset(client):
    content = client.get(reverse("accounts:login")).content.decode()
    assert "Crear cuenta" in content
    assert reverse("accounts:register") in content
    assert "Olvidé mi contraseña" in content
    assert reverse("accounts:password-reset") in content


# ---------------------------------------------------------------- password reset
def test_password_reset_request_sends_link_through_the_outbox(client, vet_owner):
    response = client.post(
        reverse("accounts:password-reset"), {"email": "VET_OWNER@vet.example"}
    )
    assert response["Location"] == reverse("accounts:password-reset-done")
    log = EmailLog.objects.get(kind=EmailKind.PASSWORD_RESET)
    assert log.recipient == vet_owner.email
    assert "/cuentas/contrasena/restablecer/" in link_in(log)


def test_password_reset_for_unknown_address_looks_the_same_and_sends_nothing(client):
    response = client.post(
        reverse("accounts:password-reset"), {"email": "nadie@x.example"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password-reset-done")
    assert not EmailLog.objects.exists()


def test_password_reset_link_sets_new_password_once(client, vet_owner):
    client.post(reverse("accounts:password-reset"), {"email": vet_owner.email})
    url = path_of(link_in(EmailLog.objects.get()))
    form_page = client.get(url, follow=True)
    assert form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {
            "new_password1": "nueva-clave-segura-9",
            "new_password2": "nueva-clave-segura-9",
        },
        follow=True,
    )
    assert "Su contraseña fue cambiada" in done.content.decode()
    assert client.login(username="vet_owner", password="nueva-clave-segura-9")
    client.logout()
    reused = client.get(url, follow=True)
    assert not reused.context["validlink"]
    assert "no es válido" in reused.content.decode()


def test_password_reset_rejects_weak_password_next_to_field(client, vet_owner):
    client.post(reverse("accounts:password-reset"), {"email": vet_owner.email})
    url = path_of(link_in(EmailLog.objects.get()))
    set_url = client.get(url, follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    vet_owner.refresh_from_db()
    assert vet_owner.check_password("secreto-de-prueba")


# ---------------------------------------------------------------- profile
@pytest.fixture
def new_vet(db):
    vet = veterinarian_register(
        username="incompleto",
        full_name="Vet Incompleto",
        email="i@x.example",
        password="una-clave-larga-1",
    )
    User.objects.filter(pk=vet.user_id).update(is_active=True, email_verified=True)
    return User.objects.get(pk=vet.user_id)


def test_profile_required_redirects_an_incomplete_vet_to_the_profile_page(rf, new_vet):
    from django.http import HttpResponse

    from patolab.accounts.permissions import profile_required

    request = rf.get("/protocolos/nuevo/")
    request.user = new_vet
    response = profile_required(lambda r: HttpResponse("ok"))(request)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")


def test_vet_completes_profile_and_can_then_pass_profile_required(login, new_vet):
    client = login(new_vet)
    page = client.get(reverse("accounts:profile"))
    assert "Complete su matrícula" in page.content.decode()
    response = client.post(
        reverse("accounts:profile"),
        {
            "full_name": "Vet Completo",
            "license_number": "MP 999",
            "phone": "221 555-0000",
            "locality": "Tandil",
            "address": "Calle 1 nº 23",
        },
    )
    assert response.status_code == 302
    vet = Veterinarian.objects.get(user=new_vet)
    assert vet.profile_complete
    assert (vet.license_number, vet.locality) == ("MP 999", "Tandil")
    new_vet.refresh_from_db()
    assert new_vet.get_full_name() == "Vet Completo"


def test_profile_missing_required_fields_shows_errors_and_saves_nothing(login, new_vet):
    client = login(new_vet)
    response = client.post(
        reverse("accounts:profile"),
        {
            "full_name": "Vet Incompleto",
            "license_number": "",
            "phone": "",
            "locality": "",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"license_number", "phone", "locality"}
    vet = Veterinarian.objects.get(user=new_vet)
    assert not vet.profile_complete


def test_staff_profile_page_is_read_only(login, technician):
    response = login(technician).get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert response.context["profile"] is None
    assert "tecnico" in response.content.decode()


# ---------------------------------------------------------------- preferences
def test_preferences_are_saved_and_honoured_by_the_emails(login, vet_owner):
    from patolab.notifications import emails
    from patolab.notifications.tests.factories import make_received_protocol

    client = login(vet_owner)
    response = client.post(
        reverse("accounts:preferences"),
        {"notification_email": "avisos@clinica.example", "notify_submission": "on"},
    )
    assert response.status_code == 302
    vet = Veterinarian.objects.get(user=vet_owner)
    assert vet.notification_email == "avisos@clinica.example"
    assert vet.notify_submission
    assert not vet.notify_reception
    vet_owner.veterinarian.refresh_from_db()  # the persona object is cached
    protocol = make_received_protocol(vet_owner)
    assert emails.protocol_received(protocol=protocol) is None
    assert emails.protocol_submitted(protocol=protocol).recipient == (
        "avisos@clinica.example"
    )


def test_preferences_reject_a_bad_address(login, vet_owner):
    response = login(vet_owner).post(
        reverse("accounts:preferences"),
        {"notification_email": "no es email", "notify_reception": "on"},
    )
    assert response.status_code == 200
    assert "notification_email" in response.context["form"].errors
    assert Veterinarian.objects.get(user=vet_owner).notification_email == ""


def test_password_reset_for_unverified_account_resends_verification(client):
    veterinarian_register(
        username="sinverificar",
        full_name="Vet Sin Verificar",
        email="sv@x.example",
        password="una-clave-larga-1",
    )
    EmailLog.objects.all().delete()
    response = client.post(
        reverse("accounts:password-reset"), {"email": "sv@x.example"}
    )
    assert response["Location"] == reverse("accounts:password-reset-done")
    [log] = EmailLog.objects.all()
    assert log.kind == EmailKind.ACCOUNT_VERIFICATION


def test_old_link_does_not_reactivate_an_account_an_admin_disabled(client):
    vet = veterinarian_register(
        username="desactivado",
        full_name="Vet Desactivado",
        email="d@x.example",
        password="una-clave-larga-1",
    )
    url = path_of(link_in(EmailLog.objects.get()))
    assert client.get(url).status_code == 302  # verified and active
    assert client.get(url).status_code == 302  # a second click changes nothing
    User.objects.filter(pk=vet.user_id).update(is_active=False)
    response = client.get(url)
    assert response.status_code == 400
    assert "Esta cuenta está desactivada" in response.content.decode()
    assert not User.objects.get(pk=vet.user_id).is_active
