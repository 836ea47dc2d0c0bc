from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.core.errors import DomainError

from .models import ApiToken, Role, User, Veterinarian


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"


def api_token_create(*, username: str, password: str) -> str:
    """Check credentials and return a new bearer token (only its hash is stored).

    Side effects: one ApiToken row. Raises InvalidCredentials (401)."""
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials(_("Usuario o contraseña incorrectos."))
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    return key


def api_token_authenticate(*, key: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            key_hash=ApiToken.hash_key(key), expires_at__gt=now, user__is_active=True
        )
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_superuser: bool = False,
) -> User:
    """Create a staff or veterinarian user (admins create staff accounts)."""
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        is_staff=role == Role.ADMIN or is_superuser,
        is_superuser=is_superuser,
        email_verified=True,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def veterinarian_create(
    *,
    username: str,
    password: str,
    full_name: str,
    email: str,
    license_number: str = "",
    phone: str = "",
    locality: str = "",
    address: str = "",
) -> Veterinarian:
    """Create a veterinarian user with its profile."""
    first, _sep, last = full_name.partition(" ")
    user = user_create(
        username=username,
        password=password,
        role=Role.VETERINARIAN,
        email=email,
        first_name=first,
        last_name=last,
    )
    return Veterinarian.objects.create(
        user=user,
        full_name=full_name,
        email=email,
        license_number=license_number,
        phone=phone,
        locality=locality,
        address=address,
    )
