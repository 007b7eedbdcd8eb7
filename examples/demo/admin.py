"""The demo's admin: to-dos and users at `/admin`, on `trivium.admin`."""

from __future__ import annotations

from examples.demo.models import Todo
from trivium.admin import Admin
from trivium.admin import ModelAdmin
from trivium.auth import Auth
from trivium.auth import User
from trivium.db import Database


class TodoAdmin(ModelAdmin):
    list_display = ("title", "owner__email", "priority", "done", "due", "created_at")
    list_filter = ("done", "priority", "due", "owner")
    search_fields = ("title", "notes")
    ordering = ("-id",)
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "created_at"
    list_editable = ("done",)


class UserAdmin(ModelAdmin):
    list_display = ("email", "username", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "date_joined")
    search_fields = ("email", "username")
    ordering = ("email",)
    fields = (
        "email",
        "username",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
    )
    readonly_fields = ("last_login", "date_joined")
    exclude = ("password",)


def site(db: Database, auth: Auth) -> Admin:
    """Return the demo's `Admin` with its models registered."""
    admin = Admin(db, auth, title="Trivium demo admin")
    admin.register(Todo, TodoAdmin)
    admin.register(User, UserAdmin)
    return admin
