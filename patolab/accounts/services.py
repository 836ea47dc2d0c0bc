from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from patolab.core.errors import DomainError, ValidationFailed

from .models import ApiToken, Role, User, Veterinarian
from .selectors import api_token_get
from .throttling import allow_account_email


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"


class LockedOut(DomainError):
    status_code = 429
    code = "locked_out"


def api_token_create(
    *, username: str, password: str, request: HttpRequest | None = None
) -> str:
    """Check credentials and return a new bearer token (only its hash is stored).

    Authenticates through django-axes like the web and admin logins, so failures
    count towards the same lockout. A user keeps at most API_TOKENS_MAX_PER_USER
    live tokens: issuing one more revokes the oldest (no unlimited minting).

    Side effects: one ApiToken row, maybe one deleted. Raises InvalidCredentials
    (401), LockedOut (429) or ValidationFailed (400, a NUL byte)."""
    if "\x00" in username or "\x00" in password:
        raise ValidationFailed(
            _("La solicitud contiene caracteres no permitidos."),
            code="invalid_characters",
        )
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        if request is not None and getattr(request, "axes_locked_out", False):
            from .throttling import lockout_message

            raise LockedOut(lockout_message())
        raise InvalidCredentials(_("Usuario o contraseña incorrectos."))
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        ApiToken.objects.create(
            user=user,
            key_hash=ApiToken.hash_key(key),
            expires_at=now + timedelta(days=settings.API_TOKEN_TTL_DAYS),
        )
        keep = list(
            ApiToken.objects.filter(user=user, expires_at__gt=now)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)[: settings.API_TOKENS_MAX_PER_USER]
        )
        ApiToken.objects.filter(user=user).exclude(pk__in=keep).delete()
    return key


def api_token_list_for(*, user: User) -> list[ApiToken]:
    """The user's live tokens, newest first (hashes only; keys are never kept)."""
    return list(
        ApiToken.objects.filter(user=user, expires_at__gt=timezone.now()).order_by(
            "-created_at"
        )
    )


def api_token_revoke(*, token_id: int, user: User) -> bool:
    """Revoke one token. Its owner may revoke it, and so may an admin; anyone else
    gets False, exactly as for a token that does not exist (no enumeration)."""
    tokens = ApiToken.objects.filter(pk=token_id)
    if not user.is_admin_role:
        tokens = tokens.filter(user=user)
    deleted, _detail = tokens.delete()
    return deleted > 0


def api_tokens_revoke_all(*, user_id: int) -> int:
    """Revoke every token of a user (password changed, account disabled).
    Returns how many were revoked."""
    deleted, _detail = ApiToken.objects.filter(user_id=user_id).delete()
    return deleted


def api_token_authenticate(*, key: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    now = timezone.now()
    found = api_token_get(key_hash=ApiToken.hash_key(key), now=now)
    if found is None:
        return None
    token_id, last_used_at, user = found
    if last_used_at is None or now - last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


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
    if role == Role.ADMIN:
        user.groups.add(admin_group())
    return user


def admin_group() -> Group:
    """The group that gives the admin role every model permission in the Django
    admin (without making the user a superuser)."""
    group, _created = Group.objects.get_or_create(name="Administración")
    group.permissions.set(Permission.objects.all())
    return group


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


# ---------------------------------------------------------------- self-service
# Veterinarians register themselves, verify their e-mail, complete their
# profile, reset their password and choose their notifications. Every e-mail
# goes through the notifications outbox (EmailLog + the `emails` queue).

VERIFY_SALT = "patolab.accounts.verify-email"


def _site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _password_errors(password: str, user: User | None = None) -> list[str]:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def email_verification_url(*, user: User) -> str:
    """A signed, time-stamped link (valid `EMAIL_VERIFICATION_HOURS`) bound to the
    user and the address it was sent to."""
    token = signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_SALT)
    return _site_url(reverse("accounts:verify", kwargs={"token": token}))


def veterinarian_register(
    *,
    username: str,
    full_name: str,
    email: str,
    password: str,
    client: str | None = None,
) -> Veterinarian | None:
    """Self-registration: an inactive veterinarian account plus a verification
    e-mail. Raises ValidationFailed (nothing written) for a taken username or a
    weak password.

    An address that already has an account is not revealed: nothing is created,
    None is returned (callers answer exactly as for a new account) and the
    address gets an e-mail saying it already has an account, with a reset link
    (throttled like password resets, per address and per `client`).

    Side effects: User (inactive, unverified) + Veterinarian rows, one
    `account_verification` EmailLog sent after commit."""
    from patolab.notifications import emails

    username = username.strip()
    email = User.objects.normalize_email(email.strip()).lower()
    full_name = " ".join(full_name.split())
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = [_("Este campo es obligatorio.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("Ese nombre de usuario ya está en uso.")]
    if not full_name:
        errors["full_name"] = [_("Este campo es obligatorio.")]
    if not email:
        errors["email"] = [_("Este campo es obligatorio.")]
    probe = User(username=username, email=email, first_name=full_name)
    if password_errors := _password_errors(password, probe):
        errors["password1"] = password_errors
    if errors:
        raise ValidationFailed(_("Revise los datos del formulario."), errors=errors)
    existing = User.objects.filter(email__iexact=email).order_by("pk").first()
    if existing is not None:
        if allow_account_email(address=email, client=client):
            emails.account_exists(user=existing, url=password_reset_url(user=existing))
        return None
    try:
        with transaction.atomic():
            vet = veterinarian_create(
                username=username, password=password, full_name=full_name, email=email
            )
            user = vet.user
            User.objects.filter(pk=user.pk).update(
                is_active=False, email_verified=False
            )
            user.is_active = False
            user.email_verified = False
            emails.account_verification(
                user=user, url=email_verification_url(user=user)
            )
    except DjangoValidationError as exc:  # model validation (username characters)
        raise ValidationFailed(
            _("Revise los datos del formulario."),
            errors={k: list(v) for k, v in exc.message_dict.items()},
        ) from None
    return vet


class VerificationFailed(ValidationFailed):
    code = "verification_failed"


def account_verify(*, token: str) -> User:
    """Activate the account a verification link belongs to.

    Raises VerificationFailed with a Spanish message for an expired, tampered or
    outdated link (e.g. the e-mail changed since), or for an account an admin
    deactivated after it was verified. Idempotent: a verified active account is
    returned unchanged."""
    try:
        data = signing.loads(
            token,
            salt=VERIFY_SALT,
            max_age=timedelta(hours=settings.EMAIL_VERIFICATION_HOURS),
        )
    except signing.SignatureExpired:
        raise VerificationFailed(
            _(
                "El enlace de verificación venció (es válido por %(hours)s horas). "
                "Pida uno nuevo."
            )
            % {"hours": settings.EMAIL_VERIFICATION_HOURS},
            code="verification_expired",
        ) from None
    except signing.BadSignature:
        raise VerificationFailed(
            _("El enlace de verificación no es válido."), code="verification_invalid"
        ) from None
    user = User.objects.filter(pk=data.get("u")).first()
    if user is None or user.email.lower() != str(data.get("e", "")).lower():
        raise VerificationFailed(
            _("El enlace de verificación no es válido."), code="verification_invalid"
        )
    if user.email_verified:
        if not user.is_active:
            # Verified before and deactivated since (by an admin): an old link
            # must not switch the account back on.
            raise VerificationFailed(
                _("Esta cuenta está desactivada. Comuníquese con el laboratorio."),
                code="account_disabled",
            )
        return user
    User.objects.filter(pk=user.pk).update(is_active=True, email_verified=True)
    user.is_active = True
    user.email_verified = True
    return user


def account_verification_resend(*, email: str, client: str | None = None) -> None:
    """Send a fresh verification link to an unverified account with that
    address. Says nothing about whether one exists (no enumeration); throttled
    per address and per `client` (the caller's IP)."""
    from patolab.notifications import emails

    if not allow_account_email(address=email, client=client):
        return
    for user in User.objects.filter(
        email__iexact=email.strip(), email_verified=False, is_active=False
    ):
        emails.account_verification(user=user, url=email_verification_url(user=user))


def password_reset_url(*, user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return _site_url(
        reverse(
            "accounts:password-reset-confirm",
            kwargs={"uidb64": uidb64, "token": token},
        )
    )


def password_reset_request(*, email: str, client: str | None = None) -> None:
    """E-mail a reset link to each active account with that address (Django's
    token generator: single use, invalidated by a password change). An
    unverified account gets a new verification link instead. Never reveals
    whether the address exists: callers show the same page either way.
    Throttled per address and per `client` (ACCOUNT_EMAILS_* settings).

    Side effects: at most one EmailLog per matching account, sent on commit."""
    from patolab.notifications import emails

    email = email.strip()
    if not email or not allow_account_email(address=email, client=client):
        return
    for user in User.objects.filter(email__iexact=email):
        if user.is_active and user.has_usable_password():
            emails.password_reset(user=user, url=password_reset_url(user=user))
        elif not user.email_verified:
            emails.account_verification(
                user=user, url=email_verification_url(user=user)
            )


@transaction.atomic
def veterinarian_update_profile(
    *,
    veterinarian: Veterinarian,
    full_name: str,
    license_number: str,
    phone: str,
    locality: str,
    address: str = "",
) -> Veterinarian:
    """Complete or edit the profile. License number, phone and locality are
    required (a vet cannot submit protocols without them). Raises
    ValidationFailed and writes nothing on missing fields."""
    values = {
        "full_name": " ".join(full_name.split()),
        "license_number": license_number.strip(),
        "phone": phone.strip(),
        "locality": locality.strip(),
        "address": address.strip(),
    }
    required = ("full_name", "license_number", "phone", "locality")
    errors = {
        name: [_("Este campo es obligatorio.")] for name in required if not values[name]
    }
    if errors:
        raise ValidationFailed(_("Complete los datos obligatorios."), errors=errors)
    for name, value in values.items():
        setattr(veterinarian, name, value)
    veterinarian.save(update_fields=[*values])
    first, _sep, last = values["full_name"].partition(" ")
    User.objects.filter(pk=veterinarian.user_id).update(
        first_name=first[:150], last_name=last[:150]
    )
    return veterinarian


@transaction.atomic
def veterinarian_update_preferences(
    *,
    veterinarian: Veterinarian,
    notification_email: str,
    notify_submission: bool,
    notify_reception: bool,
) -> Veterinarian:
    """Alternative address for notifications and the optional e-mails on/off
    (the report e-mail is always sent). Raises ValidationFailed for a malformed
    address."""
    address = notification_email.strip()
    if address:
        try:
            validate_email(address)
        except DjangoValidationError:
            raise ValidationFailed(
                _("Revise los datos del formulario."),
                errors={"notification_email": [_("Ingrese un e-mail válido.")]},
            ) from None
    veterinarian.notification_email = address
    veterinarian.notify_submission = notify_submission
    veterinarian.notify_reception = notify_reception
    veterinarian.save(
        update_fields=["notification_email", "notify_submission", "notify_reception"]
    )
    return veterinarian
