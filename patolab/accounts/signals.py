"""Credential changes end what the old credentials opened.

Connected in AccountsConfig.ready. A password change (any path: reset link,
admin, `changepassword`) or disabling an account revokes every API token of the
user; a password change also clears the user's login lockout (django-axes)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_save

from .models import User


def on_user_save(sender: type[User], instance: User, **kwargs: Any) -> None:
    if instance.pk is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login on every login
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    password_changed = before["password"] != instance.password
    disabled = before["is_active"] and not instance.is_active
    if password_changed or disabled:
        from .services import api_tokens_revoke_all

        api_tokens_revoke_all(user_id=instance.pk)
    if password_changed:
        from axes.utils import reset

        reset(username=instance.get_username())


def connect() -> None:
    pre_save.connect(on_user_save, sender=User, dispatch_uid="patolab-user-credentials")
