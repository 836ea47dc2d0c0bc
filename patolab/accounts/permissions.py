"""The one permission layer: role checks for views and API endpoints, and the
per-role scoping of querysets that selectors use."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from patolab.core.errors import NotAllowed

from .models import Role, User

M = TypeVar("M", bound=Model)
ViewFunc = Callable[..., Any]

STAFF_ROLES = (Role.LAB_STAFF, Role.ADMIN)
REPORT_ROLES = (Role.HISTOPATHOLOGIST, Role.ADMIN)
INTERNAL_ROLES = (Role.LAB_STAFF, Role.HISTOPATHOLOGIST, Role.ADMIN)


class AuthenticatedHttpRequest(HttpRequest):
    """The request type of views behind `login_required`/`role_required` and of API
    endpoints behind the default auth (bearer token or session): `request.user` is
    always a real User there, never AnonymousUser. Annotation only."""

    user: User


def has_role(user: Any, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return user.role in roles


def role_required(*roles: str) -> Callable[[ViewFunc], ViewFunc]:
    """View decorator: login required, then one of `roles` (admins always pass)."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles, Role.ADMIN):
                raise PermissionDenied(_("Su rol no tiene acceso a esta página."))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def require_role(user: Any, *roles: str) -> None:
    """For API endpoints and services: raise NotAllowed (403) for a wrong role."""
    if not has_role(user, *roles, Role.ADMIN):
        raise NotAllowed(_("Su rol no permite esta operación."), code="forbidden_role")


def scope_to_user(queryset: QuerySet[M], user: User, *, vet_field: str) -> QuerySet[M]:
    """Veterinarians see only rows whose `vet_field` is their own profile; lab
    roles see everything. Selectors call this for every user-triggered read."""
    if not user.is_authenticated:
        return queryset.none()
    if user.is_veterinarian:
        return queryset.filter(**{f"{vet_field}__user": user})
    return queryset


def user_shape(user: Any) -> tuple[Any, ...]:
    """What every visibility rule reads of a user besides its id: a query
    compiled once per shape (`patolab.core.prepared`) fits every such user."""
    return (
        bool(getattr(user, "is_authenticated", False)),
        getattr(user, "role", None),
        bool(getattr(user, "is_superuser", False)),
    )


def user_placeholder(user: User, pk: int) -> User:
    """A stand-in for `user` with id `pk` and the same shape (`user_shape`),
    to build a visibility rule's query once with a placeholder id."""
    return User(pk=pk, role=user.role, is_superuser=user.is_superuser)


def profile_required(view: ViewFunc) -> ViewFunc:
    """Veterinarians must complete their profile before submitting protocols."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        user = request.user
        if user.is_authenticated and user.is_veterinarian:
            profile = getattr(user, "veterinarian", None)
            if profile is None or not profile.profile_complete:
                return redirect("accounts:profile")
        return view(request, *args, **kwargs)

    return wrapper
