from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VETERINARIAN = "veterinarian", _("Veterinario/a")
    LAB_STAFF = "lab_staff", _("Personal de laboratorio")
    HISTOPATHOLOGIST = "histopathologist", _("Histopatólogo/a")
    ADMIN = "admin", _("Administrador/a")


class User(AbstractUser):
    role = models.CharField(
        _("rol"), max_length=20, choices=Role.choices, default=Role.VETERINARIAN
    )
    email_verified = models.BooleanField(_("e-mail verificado"), default=False)
    # A signing pathologist's professional registration, printed under the
    # signature of their reports.
    license_number = models.CharField(
        _("matrícula profesional"), max_length=30, blank=True
    )

    class Meta:
        verbose_name = _("usuario")
        verbose_name_plural = _("usuarios")

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_veterinarian(self) -> bool:
        return self.role == Role.VETERINARIAN and not self.is_superuser

    @property
    def is_lab_staff(self) -> bool:
        return self.role == Role.LAB_STAFF

    @property
    def is_histopathologist(self) -> bool:
        return self.role == Role.HISTOPATHOLOGIST

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Veterinarian(models.Model):
    """Profile of a veterinarian user (a lab client)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="veterinarian",
        verbose_name=_("usuario"),
    )
    full_name = models.CharField(_("nombre completo"), max_length=150)
    license_number = models.CharField(_("matrícula"), max_length=30, blank=True)
    phone = models.CharField(_("teléfono"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"))
    address = models.CharField(_("dirección"), max_length=200, blank=True)
    locality = models.CharField(_("localidad"), max_length=100, blank=True)
    # Notification preferences: the report e-mail is always sent.
    notification_email = models.EmailField(
        _("e-mail alternativo para notificaciones"), blank=True
    )
    notify_submission = models.BooleanField(_("confirmación de envío"), default=True)
    notify_reception = models.BooleanField(_("recepción de muestras"), default=True)

    class Meta:
        verbose_name = _("veterinario/a")
        verbose_name_plural = _("veterinarios/as")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def profile_complete(self) -> bool:
        return bool(self.license_number and self.phone and self.locality)

    @property
    def delivery_email(self) -> str:
        return self.notification_email or self.email


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("usuario"),
    )
    key_hash = models.CharField(
        max_length=64, unique=True, verbose_name=_("hash de la clave")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("creado"))
    expires_at = models.DateTimeField(verbose_name=_("vence"))
    last_used_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("último uso")
    )

    class Meta:
        verbose_name = _("token de API")
        verbose_name_plural = _("tokens de API")

    def __str__(self) -> str:
        return f"{_('Token de')} {self.user}"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
