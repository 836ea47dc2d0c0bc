from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, User, Veterinarian


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "email_verified",
    )
    list_filter = ("role", "is_active", "email_verified", "is_superuser")
    search_fields = ("username", "email", "first_name", "last_name")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Patolab"), {"fields": ("role", "email_verified", "license_number")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Patolab"), {"fields": ("role", "email", "first_name", "last_name")}),
    )


@admin.register(Veterinarian)
class VeterinarianAdmin(admin.ModelAdmin):
    list_display = ("full_name", "license_number", "email", "phone", "locality")
    search_fields = ("full_name", "license_number", "email", "user__username")
    list_filter = ("locality",)
    raw_id_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "expires_at", "last_used_at")
    readonly_fields = ("user", "key_hash", "created_at", "expires_at", "last_used_at")
    search_fields = ("user__username",)
