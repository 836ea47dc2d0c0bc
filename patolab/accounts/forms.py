"""Forms of the veterinarian self-service pages. They only shape input; the
rules live in the services, whose ValidationFailed errors are shown next to the
fields (`add_service_errors`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from patolab.core.errors import ValidationFailed

from .models import User, Veterinarian


def add_service_errors(form: forms.BaseForm, exc: ValidationFailed) -> None:
    """Put a service's field errors next to the matching fields."""
    if not exc.errors:
        form.add_error(None, exc.message)
    for field, messages in exc.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class LoginForm(AuthenticationForm):
    """Django's login form, telling a user with the right password whose
    account is not verified yet what to do (nobody else learns anything)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Our own labels (Django's say "Nombre de usuario"), from our catalog.
        self.fields["username"].label = _("Usuario")
        self.fields["password"].label = _("Contraseña")

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username and password:
            pending = User.objects.filter(
                username=username, is_active=False, email_verified=False
            ).first()
            if pending is not None and pending.check_password(password):
                raise forms.ValidationError(
                    _(
                        "Su cuenta todavía no está activada. Abra el enlace que le "
                        "enviamos por e-mail o pida uno nuevo."
                    ),
                    code="inactive",
                )
        return super().clean()


EMAIL_ERRORS = {"invalid": _("Ingrese un e-mail válido.")}


class RegistrationForm(forms.Form):
    username = forms.CharField(
        label=_("Usuario"),
        max_length=150,
        help_text=_("Letras, números y @/./+/-/_ solamente."),
        validators=[User.username_validator],
    )
    full_name = forms.CharField(label=_("Nombre y apellido"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), error_messages=EMAIL_ERRORS)
    password1 = forms.CharField(
        label=_("Contraseña"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Al menos 8 caracteres; no sólo números ni una contraseña común."),
    )
    password2 = forms.CharField(
        label=_("Repita la contraseña"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_password1(self) -> str:
        password = str(self.cleaned_data.get("password1", ""))
        if password:
            probe = User(
                username=self.data.get("username", ""),
                email=self.data.get("email", ""),
                first_name=self.data.get("full_name", ""),
            )
            # The service checks again; here so every error shows at once.
            password_validation.validate_password(password, user=probe)
        return password

    def clean_password2(self) -> str:
        first = self.cleaned_data.get("password1")
        second = str(self.cleaned_data.get("password2", ""))
        if first and second and first != second:
            raise forms.ValidationError(_("Las contraseñas no coinciden."))
        return second


class NewPasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Contraseña nueva")
        self.fields["new_password1"].help_text = _(
            "Al menos 8 caracteres; no sólo números ni una contraseña común."
        )
        self.fields["new_password2"].label = _("Repita la contraseña nueva")
        self.fields["new_password2"].help_text = ""


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), error_messages=EMAIL_ERRORS)


class ProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Veterinarian
        fields = ["full_name", "license_number", "phone", "locality", "address"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("license_number", "phone", "locality"):
            self.fields[name].required = True


class PreferencesForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Veterinarian
        fields = ["notification_email", "notify_submission", "notify_reception"]
        error_messages = {"notification_email": EMAIL_ERRORS}
        labels = {
            "notification_email": _("E-mail alternativo para avisos e informes"),
            "notify_submission": _("Recibir la confirmación de envío"),
            "notify_reception": _("Recibir el aviso de recepción de la muestra"),
        }
        help_texts = {
            "notification_email": _(
                "Si lo completa, los avisos e informes se envían a esta dirección "
                "en lugar de su e-mail de cuenta."
            ),
            "notify_submission": _("Un e-mail con el código temporal al cargar."),
            "notify_reception": _("Un e-mail cuando la muestra llega al laboratorio."),
        }
