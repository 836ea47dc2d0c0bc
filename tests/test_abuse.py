"""Brute force, token hygiene, e-mail flooding and account enumeration."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from patolab.accounts.models import ApiToken, User
from patolab.notifications.models import EmailKind, EmailLog

LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.ACCOUNT_EMAILS_PER_ADDRESS = 3
    settings.ACCOUNT_EMAILS_PER_CLIENT = 10


def web_login(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def token_request(username: str, password: str, ip: str = "10.0.0.1"):
    return Client().post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


# ---------------------------------------------------------------- lockout
def test_web_login_locks_the_user_after_the_limit_even_with_the_right_password(
    vet_owner,
):
    client = Client()
    for _ in range(LIMIT - 1):
        assert web_login(client, "vet_owner", "mala").status_code == 200
    # The LIMIT-th failure is answered with the lockout, and so is the right
    # password afterwards.
    assert web_login(client, "vet_owner", "mala").status_code == 429
    response = web_login(client, "vet_owner", PASSWORD)
    assert response.status_code == 429
    assert "Demasiados intentos fallidos" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Per user: another address is locked out too.
    assert web_login(Client(), "vet_owner", PASSWORD, ip="10.9.9.9").status_code == 429


def test_one_address_trying_many_users_is_locked_out(vet_owner, vet_other, admin):
    for username in ("nadie1", "nadie2", "nadie3"):
        web_login(Client(), username, "mala", ip="10.0.0.66")
    response = web_login(Client(), "vet_other", PASSWORD, ip="10.0.0.66")
    assert response.status_code == 429
    # The same user from another address is fine.
    response = web_login(Client(), "vet_other", PASSWORD, ip="10.0.0.67")
    assert response.status_code == 302


def test_admin_login_is_throttled(admin):
    client = Client()
    for _ in range(LIMIT):
        client.post(
            "/admin/login/",
            {"username": "jefa", "password": "mala", "next": "/admin/"},
            REMOTE_ADDR="10.0.0.5",
        )
    response = client.post(
        "/admin/login/",
        {"username": "jefa", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="10.0.0.5",
    )
    assert response.status_code == 429
    assert "Demasiados intentos fallidos" in response.content.decode()


def test_token_endpoint_is_throttled_with_a_json_429(vet_owner):
    for _ in range(LIMIT - 1):
        assert token_request("vet_owner", "mala").status_code == 401
    assert token_request("vet_owner", "mala").status_code == 429
    response = token_request("vet_owner", PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out"
    assert "Demasiados intentos fallidos" in body["detail"]


def test_admin_unlocks_from_the_admin(vet_owner, admin):
    for _ in range(LIMIT):
        token_request("vet_owner", "mala")
    assert token_request("vet_owner", PASSWORD).status_code == 429
    attempts = AccessAttempt.objects.filter(username="vet_owner")
    assert attempts.exists()
    staff = Client()
    staff.force_login(admin)
    listing = staff.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "vet_owner" in listing.content.decode()
    for attempt in attempts:
        response = staff.post(
            f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}
        )
        assert response.status_code == 302
    assert token_request("vet_owner", PASSWORD).status_code == 200


def test_password_reset_clears_the_lockout(vet_owner):
    client = Client()
    for _ in range(LIMIT):
        web_login(client, "vet_owner", "mala")
    assert web_login(client, "vet_owner", PASSWORD).status_code == 429
    client.post(
        reverse("accounts:password-reset"),
        {"email": vet_owner.email},
        REMOTE_ADDR="10.0.0.1",
    )
    log = EmailLog.objects.get(kind=EmailKind.PASSWORD_RESET)
    link = re.search(
        r"https?://[^/]+(/cuentas/contrasena/restablecer/\S+)", log.body_text
    )
    assert link
    page = client.get(link.group(1), follow=True)
    client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else link.group(1),
        {"new_password1": "otra-clave-larga-9", "new_password2": "otra-clave-larga-9"},
    )
    assert not AccessAttempt.objects.filter(username="vet_owner").exists()
    response = web_login(Client(), "vet_owner", "otra-clave-larga-9")
    assert response.status_code == 302


# ---------------------------------------------------------------- tokens
def test_password_change_revokes_every_token(api, vet_owner):
    client = api(vet_owner)
    assert client.get("/api/v1/protocols").status_code == 200
    vet_owner.set_password("una-clave-nueva-123")
    vet_owner.save()
    assert client.get("/api/v1/protocols").status_code == 401
    assert not ApiToken.objects.filter(user=vet_owner).exists()


def test_disabling_an_account_revokes_its_tokens(api, vet_owner):
    client = api(vet_owner)
    vet_owner.is_active = False
    vet_owner.save()
    assert not ApiToken.objects.filter(user=vet_owner).exists()
    vet_owner.is_active = True
    vet_owner.save()
    assert client.get("/api/v1/protocols").status_code == 401


def test_token_endpoint_keeps_a_bounded_number_of_tokens(vet_owner, settings):
    settings.API_TOKENS_MAX_PER_USER = 3
    keys = [token_request("vet_owner", PASSWORD).json()["token"] for _ in range(6)]
    assert ApiToken.objects.filter(user=vet_owner).count() == 3

    def works(key: str) -> bool:
        return (
            Client()
            .get("/api/v1/protocols", headers={"Authorization": f"Bearer {key}"})
            .status_code
            == 200
        )

    assert [works(k) for k in keys] == [False, False, False, True, True, True]


def test_owner_lists_and_revokes_tokens_on_the_profile_page(api, vet_owner, vet_other):
    client = api(vet_owner)
    api(vet_other)
    web = Client()
    web.force_login(vet_owner)
    page = web.get(reverse("accounts:profile")).content.decode()
    assert "Tokens de API" in page
    mine = ApiToken.objects.get(user=vet_owner)
    theirs = ApiToken.objects.get(user=vet_other)
    # Someone else's token: 404, nothing revoked.
    response = web.post(reverse("accounts:token-revoke", args=[theirs.pk]))
    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    response = web.post(reverse("accounts:token-revoke", args=[mine.pk]))
    assert response.status_code == 302
    assert client.get("/api/v1/protocols").status_code == 401


def test_admin_revokes_any_token_in_the_admin(api, vet_owner, admin):
    client = api(vet_owner)
    token = ApiToken.objects.get(user=vet_owner)
    staff = Client()
    staff.force_login(admin)
    listing = staff.get("/admin/accounts/apitoken/")
    assert "vet_owner" in listing.content.decode()
    response = staff.post(
        f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/protocols").status_code == 401


# ---------------------------------------------------------------- e-mail floods
def test_password_reset_emails_are_throttled_per_address(vet_owner):
    start = timezone.now()
    for index in range(20):
        # A minute apart: each request would get a distinct reset link.
        with time_machine.travel(start + timedelta(minutes=index), tick=False):
            response = Client().post(
                reverse("accounts:password-reset"),
                {"email": vet_owner.email},
                REMOTE_ADDR=f"10.1.0.{index}",
            )
        assert response.status_code == 302  # the same answer every time
    assert EmailLog.objects.filter(recipient=vet_owner.email).count() == 3


def test_reset_and_verification_emails_are_throttled_per_client(db):
    from patolab.accounts.services import veterinarian_create

    for index in range(15):
        veterinarian_create(
            username=f"vet{index}",
            password=PASSWORD,
            full_name=f"Vet {index}",
            email=f"vet{index}@vet.example",
        )
    for index in range(15):
        Client().post(
            reverse("accounts:password-reset"),
            {"email": f"vet{index}@vet.example"},
            REMOTE_ADDR="10.2.0.1",
        )
    assert EmailLog.objects.filter(kind=EmailKind.PASSWORD_RESET).count() == 10


def test_verification_resend_is_throttled(db):
    from patolab.accounts.services import veterinarian_register

    veterinarian_register(
        username="nueva",
        full_name="Nueva Vet",
        email="nueva@vet.example",
        password="clave-muy-larga-1",
    )
    for _ in range(10):
        Client().post(
            reverse("accounts:verify-resend"),
            {"email": "nueva@vet.example"},
            REMOTE_ADDR="10.3.0.1",
        )
    # One from the registration, then the throttle's allowance for the address.
    assert EmailLog.objects.filter(recipient="nueva@vet.example").count() <= 4


# ---------------------------------------------------------------- enumeration
def test_registration_does_not_reveal_an_existing_address(vet_owner):
    data = {
        "username": "alguien-nuevo",
        "full_name": "Alguien Nuevo",
        "email": vet_owner.email.upper(),
        "password1": "clave-muy-larga-1",
        "password2": "clave-muy-larga-1",
    }
    taken = Client().post(reverse("accounts:register"), data)
    fresh = Client().post(
        reverse("accounts:register"),
        {**data, "username": "otra-persona", "email": "libre@vet.example"},
    )
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    assert not User.objects.filter(username="alguien-nuevo").exists()
    # The owner of the address is told, by e-mail only.
    log = EmailLog.objects.get(recipient=vet_owner.email)
    assert "ya tiene una" in log.body_text
    assert "vet_owner" in log.body_text
