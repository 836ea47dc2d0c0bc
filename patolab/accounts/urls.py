from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .forms import LoginForm

app_name = "accounts"
urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("perfil/", views.profile, name="profile"),
    path("preferencias/", views.preferences, name="preferences"),
    path("tokens/<int:pk>/revocar/", views.token_revoke, name="token-revoke"),
    path("registro/", views.register, name="register"),
    path("registro/listo/", views.register_done, name="register-done"),
    path("verificar/reenviar/", views.verification_resend, name="verify-resend"),
    path("verificar/<str:token>/", views.verify, name="verify"),
    path("contrasena/olvide/", views.password_reset, name="password-reset"),
    path(
        "contrasena/olvide/listo/",
        views.password_reset_done,
        name="password-reset-done",
    ),
    path(
        "contrasena/restablecer/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "contrasena/restablecer/listo/",
        views.password_reset_complete,
        name="password-reset-complete",
    ),
]
