"""Account pages: login helpers, veterinarian self-registration, e-mail
verification, password reset (our e-mail pipeline, Django's tokens), profile
and notification preferences. Thin: forms shape input, services decide."""

from __future__ import annotations

from typing import Any

from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from patolab.core.errors import ValidationFailed

from .forms import (
    EmailForm,
    NewPasswordForm,
    PreferencesForm,
    ProfileForm,
    RegistrationForm,
    add_service_errors,
)
from .services import (
    VerificationFailed,
    account_verification_resend,
    account_verify,
    api_token_list_for,
    api_token_revoke,
    password_reset_request,
    veterinarian_register,
    veterinarian_update_preferences,
    veterinarian_update_profile,
)
from .throttling import client_ip


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:home")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            veterinarian_register(
                username=data["username"],
                full_name=data["full_name"],
                email=data["email"],
                password=data["password1"],
                client=client_ip(request),
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            # The same answer whether the address already had an account or not
            # (that owner gets an e-mail instead): registration reveals nothing.
            request.session["registered_email"] = data["email"].strip().lower()
            return redirect("accounts:register-done")
    return render(request, "accounts/register.html", {"form": form})


def register_done(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/register_done.html",
        {"email": request.session.get("registered_email", "")},
    )


def verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        account_verify(token=token)
    except VerificationFailed as exc:
        return render(
            request,
            "accounts/verify_failed.html",
            {"error": exc.message, "form": EmailForm()},
            status=400,
        )
    messages.success(
        request,
        _("Su e-mail quedó verificado y su cuenta está activa. Ya puede ingresar."),
    )
    return redirect("accounts:login")


@require_http_methods(["GET", "POST"])
def verification_resend(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account_verification_resend(
            email=form.cleaned_data["email"], client=client_ip(request)
        )
        messages.info(
            request,
            _(
                "Si hay una cuenta pendiente de verificación con ese e-mail, le "
                "enviamos un enlace nuevo."
            ),
        )
        return redirect("accounts:login")
    return render(request, "accounts/verification_resend.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(
            email=form.cleaned_data["email"], client=client_ip(request)
        )
        # Same answer whether the address exists or not.
        return redirect("accounts:password-reset-done")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_done.html")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's token check and SetPasswordForm; our templates and URLs. The
    new password revokes the user's API tokens and clears their login lockout
    (accounts.signals); the lockout of the address the reset came from is
    cleared here."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        axes_reset(ip=client_ip(self.request))
        return response


def password_reset_complete(request: HttpRequest) -> HttpResponse:
    messages.success(
        request, _("Su contraseña fue cambiada. Ingrese con la contraseña nueva.")
    )
    return redirect("accounts:login")


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """A veterinarian edits (completes) their profile; other roles see theirs."""
    vet = getattr(request.user, "veterinarian", None)
    if vet is None:
        return render(
            request,
            "accounts/profile.html",
            {"profile": None, "api_tokens": api_token_list_for(user=request.user)},
        )
    form = ProfileForm(request.POST or None, instance=vet)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            veterinarian_update_profile(
                veterinarian=vet,
                full_name=data["full_name"],
                license_number=data["license_number"],
                phone=data["phone"],
                locality=data["locality"],
                address=data.get("address", ""),
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Sus datos fueron guardados."))
            return redirect(_safe_next(request) or "accounts:profile")
    elif request.method == "POST":
        vet.refresh_from_db()  # the form mutated the instance while validating
    return render(
        request,
        "accounts/profile.html",
        {
            "profile": vet,
            "form": form,
            "next": _safe_next(request) or "",
            "api_tokens": api_token_list_for(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    vet = getattr(request.user, "veterinarian", None)
    if vet is None:
        messages.info(request, _("Las preferencias de aviso son para veterinarios/as."))
        return redirect("accounts:profile")
    form = PreferencesForm(request.POST or None, instance=vet)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            veterinarian_update_preferences(
                veterinarian=vet,
                notification_email=data["notification_email"],
                notify_submission=data["notify_submission"],
                notify_reception=data["notify_reception"],
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Sus preferencias fueron guardadas."))
            return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form, "profile": vet})


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's own API tokens (admins: any, also in the admin).
    Someone else's token is a 404, like one that does not exist."""
    if not api_token_revoke(token_id=pk, user=request.user):
        raise Http404
    messages.success(request, _("El token fue revocado."))
    return redirect("accounts:profile")
