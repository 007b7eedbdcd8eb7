"""`ModelAdmin`: how one model appears in the admin, with Django's option names.

A `ModelAdmin` subclass sets class attributes (`list_display`, `search_fields`, ...) and
may override the hooks (`get_queryset`, `has_*_permission`, `save_model`,
`delete_model`). The admin checks the options once, when the app is built, and refuses
names that are not fields of the model with a `ConfigurationError` (`admin-option`).
Hooks may be plain or `async` functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from sqlalchemy import select

from trivium.auth import AbstractUser
from trivium.auth import app_label
from trivium.auth import model_permissions

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.admin._checks import DisplayColumn
    from trivium.admin._filters import ListFilter
    from trivium.admin._inlines import InlineModelAdmin
    from trivium.admin._inlines import InlineSet
    from trivium.admin._meta import ModelMeta
    from trivium.admin._site import Admin
    from trivium.http import Request

__all__ = ["ModelAdmin", "action", "display", "maybe_await"]


async def maybe_await(value: Any) -> Any:
    """Await `value` when it is awaitable (hooks may be sync or async)."""
    if inspect.isawaitable(value):
        return await value
    return value


def action(
    *, description: str | None = None, permissions: Sequence[str] = ("change",)
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function as a bulk action of the change list.

    The function is called as `await fn(model_admin, request, session, objects)` with the
    selected objects in batches (a list each time; the user may act on every one of
    them): select-all-matching over a million rows never loads them at once. It may
    return a message to show.

    Args:
        description: the label in the action menu (default: the function's name).
        permissions: the object permissions (`"view"`, `"add"`, `"change"`, `"delete"`)
            the user needs on each object; objects failing the check are skipped and
            counted in the message.
    """

    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        function.short_description = description or function.__name__.replace("_", " ")  # type: ignore[attr-defined]
        function.allowed_permissions = tuple(permissions)  # type: ignore[attr-defined]
        return function

    return mark


def display(
    *, description: str | None = None, ordering: str | None = None, boolean: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a callable of `list_display`: its column header, sort field and kind."""

    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        function.short_description = description or function.__name__.replace("_", " ")  # type: ignore[attr-defined]
        function.admin_order_field = ordering  # type: ignore[attr-defined]
        function.boolean = boolean  # type: ignore[attr-defined]
        return function

    return mark


class ModelAdmin:
    """The admin options of one model; subclass it and pass it to `admin.register`.

    ```python
    class PostAdmin(ModelAdmin):
        list_display = ("title", "author__email", "published", "created_at")
        list_filter = ("published", "status", "author", "created_at")
        search_fields = ("title", "^slug", "author__email")
        readonly_fields = ("created_at",)


    admin.register(Post, PostAdmin)
    ```
    """

    list_display: ClassVar[Sequence[str | Callable[..., Any]]] = ("__str__",)
    """Columns of the change list: fields, `relation__field`, callables or method names."""
    list_display_links: ClassVar[Sequence[str] | None] = None
    """Columns linking to the change page (default: the first)."""
    list_filter: ClassVar[Sequence[str | type[ListFilter]]] = ()
    """Side filters: boolean, enum/choices, date and foreign key fields, or `ListFilter` classes."""
    search_fields: ClassVar[Sequence[str]] = ()
    """Fields searched by `?q=`: `name` (contains), `^name` (starts with), `=name` (equals),
    `@name` (contains, same as plain); relations as `author__email`."""
    ordering: ClassVar[Sequence[str]] = ()
    """The default order (`"-created_at"`); the primary key always breaks ties."""
    list_per_page: ClassVar[int] = 100
    """Rows per page."""
    readonly_fields: ClassVar[Sequence[str]] = ()
    """Fields shown but never written by the forms."""
    fields: ClassVar[Sequence[str] | None] = None
    """The fields of the add/change form, in order (default: every editable column)."""
    fieldsets: ClassVar[Sequence[tuple[str | None, Mapping[str, Any]]] | None] = None
    """Groups of fields: `[("Main", {"fields": ["title"]}), ("More", {"fields": [...]})]`."""
    exclude: ClassVar[Sequence[str]] = ()
    """Fields left out of the forms (never read from a request)."""
    autocomplete_fields: ClassVar[Sequence[str]] = ()
    """Foreign keys drawn as an autocomplete (the target's admin needs `search_fields`)."""
    actions: ClassVar[Sequence[Callable[..., Any] | str]] = ()
    """Bulk actions besides "delete selected": functions marked with `@action`, or method names."""
    date_hierarchy: ClassVar[str | None] = None
    """A date field for the year → month → day drill-down above the change list."""
    save_as: ClassVar[bool] = False
    """Offer "Save as new" on the change page."""
    inlines: ClassVar[Sequence[type[InlineModelAdmin]]] = ()
    """Related rows edited on the page: `TabularInline`/`StackedInline` subclasses."""
    list_editable: ClassVar[Sequence[str]] = ()
    """Columns of `list_display` edited in place on the change list."""
    count_limit: ClassVar[int] = 10_000
    """Rows counted exactly at most; above it the page says "more than" (or the
    database's estimate for an unfiltered table)."""
    section: ClassVar[str | None] = None
    """The index section (default: the model's app label)."""
    verbose_name: ClassVar[str | None] = None
    """The model's readable name (default: from the class name)."""
    password_fields: ClassVar[Sequence[str] | None] = None
    """Columns holding password hashes: drawn as empty password inputs, hashed on save
    (default: `("password",)` for a trivium.auth user model, else none)."""

    def __init__(self, model: type[Any], site: Admin, meta: ModelMeta) -> None:
        self.model = model
        """The model class."""
        self.site = site
        """The `Admin` it is registered with."""
        self.meta = meta
        """The model's mapping, as the admin reads it."""
        label = app_label(model)
        self.app_label = label
        """The model's app label (`shop`)."""
        self.model_name = model.__name__.lower()
        """The model's name in URLs and permission codenames (`product`)."""
        self.name = (
            self.verbose_name
            or getattr(model, "__verbose_name__", None)
            or (_words(model.__name__))
        )
        """The readable name."""
        self.codenames: dict[str, str] = {
            codename.split(".", 1)[1].split("_", 1)[0]: codename
            for codename, _ in model_permissions(model)
        }
        """`{"view": "shop.view_product", ...}`."""
        self.passwords: tuple[str, ...] = _password_columns(self, model, meta)
        """The columns holding password hashes (never shown, hashed on save)."""
        # Derived from the options by `check_admin` when the app is built.
        self.columns: list[DisplayColumn] = []
        self.filters: list[ListFilter] = []
        self.editable_fields: list[str] = []
        self.readonly: list[str] = []
        self.autocomplete: set[str] = set()
        self.action_list: dict[str, Callable[..., Any]] = {}
        self.inline_sets: list[InlineSet] = []

    # Data hooks ----------------------------------------------------------------------

    def get_queryset(self, request: Request) -> Select[Any]:
        """Return the statement every page starts from (restrict rows here)."""
        del request
        return select(self.model)

    async def save_model(
        self, request: Request, session: AsyncSession, obj: Any, change: bool
    ) -> None:
        """Add `obj` to `session` (it is flushed and committed after this)."""
        del request, change
        session.add(obj)

    async def delete_model(self, request: Request, session: AsyncSession, obj: Any) -> None:
        """Delete `obj` (database and ORM cascades apply)."""
        del request
        await session.delete(obj)

    def label_of(self, obj: Any) -> str:
        """Return how an object is named in pages (its `__str__`, else name and key).

        A model without a `__str__` of its own (only `object`'s, which shows the
        `__repr__`) is named `"<model name> <key>"`, whatever its `__str__` would print.
        """
        if not any("__str__" in vars(k) for k in type(obj).__mro__ if k is not object):
            return f"{self.name} {getattr(obj, self.meta.pk.name)}"
        return str(obj)

    # Permission hooks ----------------------------------------------------------------

    async def has_view_permission(self, request: Request, obj: Any = None) -> bool:
        """Whether the user may see the model's pages (or `obj`); change implies view."""
        if await self._allowed(request, "view", obj):
            return True
        return bool(await maybe_await(self.has_change_permission(request, obj)))

    async def has_add_permission(self, request: Request) -> bool:
        """Whether the user may add objects."""
        return await self._allowed(request, "add", None)

    async def has_change_permission(self, request: Request, obj: Any = None) -> bool:
        """Whether the user may change objects (or `obj`)."""
        return await self._allowed(request, "change", obj)

    async def has_delete_permission(self, request: Request, obj: Any = None) -> bool:
        """Whether the user may delete objects (or `obj`)."""
        return await self._allowed(request, "delete", obj)

    async def _allowed(self, request: Request, kind: str, obj: Any) -> bool:
        codename = self.codenames[kind]
        if not await self.site.user_has_perm(request, codename):
            return False
        if obj is None:
            return True
        return await self.site.object_permission(request, codename, obj)

    async def permission(self, request: Request, kind: str, obj: Any = None) -> bool:
        """Ask the hook of `kind` (`"view"`, `"add"`, `"change"`, `"delete"`)."""
        if kind == "add":
            return bool(await maybe_await(self.has_add_permission(request)))
        hook = getattr(self, f"has_{kind}_permission")
        return bool(await maybe_await(hook(request, obj)))


def _password_columns(
    model_admin: ModelAdmin, model: type[Any], meta: ModelMeta
) -> tuple[str, ...]:
    if model_admin.password_fields is not None:
        return tuple(model_admin.password_fields)
    if isinstance(model, type) and issubclass(model, AbstractUser) and "password" in meta.columns:
        return ("password",)
    return ()


def _words(name: str) -> str:
    from trivium.admin._meta import verbose

    return verbose(name)
