"""The add/change form: a `trivium.forms` form over the editable columns, drawn in fieldsets.

Only the fields the `ModelAdmin` lets the user edit are in the form's schema, so a
request that sends a read-only, excluded or generated field changes nothing (the form
never reads it). Foreign keys are drawn as a short `<select>` when the target table is
small, else as an input for the key, which the autocomplete script turns into a search
box when the field is in `autocomplete_fields`.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING
from typing import Any

from pydantic import BaseModel
from pydantic import TypeAdapter
from pydantic import ValidationError
from sqlalchemy import select

from trivium.admin._changelist import display_text
from trivium.admin._meta import form_schema
from trivium.admin._meta import json_text
from trivium.admin._meta import verbose
from trivium.auth import DEFAULT_VALIDATORS
from trivium.auth import UNUSABLE_PASSWORD_PREFIX
from trivium.auth import AbstractUser
from trivium.auth import Auth
from trivium.auth import PasswordValidationError
from trivium.auth import hash_password
from trivium.auth import identifier_taken
from trivium.auth import normalize_email
from trivium.auth import normalize_username
from trivium.auth import set_password
from trivium.auth import username_text_error
from trivium.auth import validate_password

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.admin._options import ModelAdmin
    from trivium.forms import BoundForm
    from trivium.http import Request

__all__ = [
    "FK_SELECT_LIMIT",
    "apply_form",
    "apply_passwords",
    "check_foreign_keys",
    "check_identity",
    "check_passwords",
    "fieldsets",
    "form_initial",
    "schema_of",
]

FK_SELECT_LIMIT = 100
"""Foreign keys with at most this many targets are drawn as a `<select>`."""

_SCHEMAS: dict[tuple[int, bool], type[BaseModel]] = {}


def schema_of(model_admin: ModelAdmin, *, adding: bool) -> type[BaseModel]:
    """Return (and cache) the form schema of the add or change page."""
    key = (id(model_admin), adding)
    schema = _SCHEMAS.get(key)
    if schema is None:
        schema = _SCHEMAS[key] = form_schema(
            model_admin.meta,
            model_admin.editable_fields,
            adding=adding,
            passwords=model_admin.passwords,
        )
    return schema


def form_initial(model_admin: ModelAdmin, obj: Any) -> dict[str, Any]:
    """Return the values a change page shows for `obj` (a JSON column as JSON text)."""
    initial: dict[str, Any] = {}
    for name in model_admin.editable_fields:
        value = getattr(obj, name, None)
        initial[name] = json_text(value) if model_admin.meta.columns[name].is_json else value
    return initial


def apply_form(
    model_admin: ModelAdmin, obj: Any, data: BaseModel, names: list[str] | None = None
) -> None:
    """Copy the validated values onto `obj` (only the form's own fields, or `names`).

    Password fields are left to `apply_passwords`, which hashes them.
    """
    for name in model_admin.editable_fields if names is None else names:
        if name in model_admin.passwords:
            continue
        value = getattr(data, name)
        if value is None and not model_admin.meta.columns[name].nullable:
            continue  # left empty: the column's default (on add) or current value stays
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            info = model_admin.meta.columns[name]
            if info.python_type is not datetime.datetime:
                value = value.replace(tzinfo=datetime.UTC)
        setattr(obj, name, value)


def check_passwords(model_admin: ModelAdmin, app: Any, obj: Any, form: BoundForm[Any]) -> None:
    """Add the password rules' errors to a user's new password, as the sign-up form does.

    The rules are the app's `Auth(password_validators=...)`, else the defaults; the
    similarity rule compares with the user's values as the form would save them.
    """
    if not isinstance(obj, AbstractUser) or "password" not in model_admin.passwords:
        return
    raw = getattr(form.data, "password", None)
    if "password" not in model_admin.editable_fields or not raw:
        return
    installed = app.plugins_of(Auth)
    validators = (installed[0].password_validators if installed else None) or DEFAULT_VALIDATORS
    attributes = {
        name: getattr(form.data, name, None) or getattr(obj, name, None)
        for name in ("username", "email", "first_name", "last_name")
    }
    try:
        validate_password(raw, attributes, validators)
    except PasswordValidationError as exc:
        for message in exc.messages:
            form.add_error("password", message)


def _identity_error(name: str, text: str, limit: int | None) -> str | None:
    """What is wrong with a typed email or user name (the auth battery's rules), if anything."""
    normalized = normalize_email(text) if name == "email" else normalize_username(text)
    what = "An email address" if name == "email" else "A user name"
    if not normalized:
        return f"{what} cannot be blank."
    if name == "username":
        refused = username_text_error(text)
        if refused is not None:
            return refused
    if limit is not None and len(normalized) > limit:
        return (
            f"{what} can have at most {limit} characters once normalised "
            f"(Unicode NFKC and case folding); this one has {len(normalized)}."
        )
    if name == "email":
        from email_validator import EmailNotValidError
        from email_validator import validate_email

        try:
            validate_email(text.strip(), check_deliverability=False, test_environment=True)
        except EmailNotValidError:
            return "Enter a valid email address."
    return None


async def check_identity(
    model_admin: ModelAdmin, session: AsyncSession, obj: Any, form: BoundForm[Any]
) -> None:
    """Add errors to a user's email and user name as the auth pages would (docs/auth-models.md).

    Each is checked once normalised (not blank, within its column, an email well formed),
    and at least one of the two must be set. Neither may be another user's email or user
    name (`trivium.auth.identifier_taken`, the sign-up and `PATCH /auth/me` rule): logging
    in with it would reach that user, and lists would show two accounts under one name.
    """
    if not isinstance(obj, AbstractUser):
        return
    names: list[str] = [n for n in ("email", "username") if n in model_admin.editable_fields]
    if not names or not form.is_valid:
        return
    _check_identity_text(model_admin, obj, form, names)
    for name in names:
        text = form.values.get(name)
        if form.errors.get(name) or not isinstance(text, str) or not text.strip():
            continue
        value = normalize_email(text) if name == "email" else normalize_username(text)
        if "\x00" in value:  # PostgreSQL refuses NUL in text (the text check said so)
            continue
        model = type(obj)
        if await identifier_taken(session, [value], model=model, exclude=getattr(obj, "id", None)):
            what = "email address" if name == "email" else "user name"
            form.add_error(
                name,
                f"This {what} is already another user's email address or user name; "
                "choose another one.",
            )


def _check_identity_text(
    model_admin: ModelAdmin, obj: Any, form: BoundForm[Any], names: list[str]
) -> None:
    """The text checks of `check_identity` (on a form still valid)."""
    data = form.data  # read before the first error makes the form invalid
    kept: dict[str, Any] = {}
    for name in names:
        text = form.values.get(name)
        kept[name] = getattr(data, name)
        if not isinstance(text, str) or not text:
            continue
        limit = model_admin.meta.columns[name].max_length
        error = _identity_error(name, text, limit)
        if error is not None:
            form.add_error(name, error)
        kept[name] = None if error is not None else kept[name]
    if not any(kept.get(n, getattr(obj, n, None)) for n in ("email", "username")):
        message = "A user needs an email address or a user name."
        for name in names:
            if not form.errors.get(name):
                form.add_error(name, message)


async def apply_passwords(
    model_admin: ModelAdmin,
    session: AsyncSession,
    obj: Any,
    data: BaseModel,
    request: Request | None = None,
) -> None:
    """Store the hash of each password typed in the form (an empty one changes nothing).

    A trivium.auth user's password goes through the app's `Auth.set_password`, which also
    revokes what the old password gave access to (the user's other sessions, API tokens);
    an admin changing their own password stays logged in, as on the auth battery's
    password-change page.
    """
    for name in model_admin.passwords:
        raw = getattr(data, name, None)
        if name not in model_admin.editable_fields or not raw:
            continue
        if name == "password" and isinstance(obj, AbstractUser):
            auth = model_admin.site.auth
            if isinstance(obj, auth.user_model):
                await auth.set_password(session, obj, raw)
            else:
                await set_password(session, obj, raw)
            if request is not None and _is_current_user(request, obj, auth):
                await auth.update_session_hash(request, obj)
        else:
            setattr(obj, name, await hash_password(raw))


def _is_current_user(request: Request, obj: Any, auth: Auth) -> bool:
    """Whether `obj` is the account of the request's user (the one logged in)."""
    user = request.user
    if not getattr(user, "is_authenticated", False) or obj.id is None:
        return False
    return isinstance(obj, auth.user_model) and getattr(user, "id", None) == obj.id


async def check_foreign_keys(
    model_admin: ModelAdmin, session: AsyncSession, form: BoundForm[Any]
) -> None:
    """Add an error to each foreign key naming no row (one query per key given)."""
    data = form.data  # read before the first error makes the form invalid
    for name in model_admin.editable_fields:
        info = model_admin.meta.columns[name]
        value = form.values.get(name)
        if info.target is None or value in (None, ""):
            continue
        target_pk = model_admin.site.meta_of(info.target).pk
        key = getattr(data, name)
        bounds = target_pk.bounds
        if bounds is not None and isinstance(key, int) and not bounds[0] <= key <= bounds[1]:
            form.add_error(name, f"No {verbose(info.target.__name__)} has the key {key}.")
            continue  # out of the key column's range: no such row, and no query for it
        found = await session.scalar(
            select(getattr(info.target, target_pk.name)).where(
                getattr(info.target, target_pk.name) == key
            )
        )
        if found is None:
            form.add_error(name, f"No {verbose(info.target.__name__)} has the key {key}.")


async def _fk_widget(
    model_admin: ModelAdmin, session: AsyncSession, name: str, value: Any
) -> dict[str, Any]:
    info = model_admin.meta.columns[name]
    target = info.target
    site = model_admin.site
    assert target is not None
    target_admin = site.admin_for(target)
    pk = site.meta_of(target).pk.name
    label = target_admin.label_of if target_admin is not None else str
    current_label = ""
    if value not in (None, ""):
        try:
            key = TypeAdapter(site.meta_of(target).pk.value_type).validate_python(str(value))
        except ValidationError:
            key = None
        current = await session.get(target, key) if key is not None else None
        current_label = label(current) if current is not None else ""
    if name in model_admin.autocomplete:
        url = site.url(model_admin.app_label, model_admin.model_name, "autocomplete", name)
        return {"kind": "autocomplete", "url": url, "label": current_label}
    rows = list(
        (
            await session.scalars(
                select(target).order_by(getattr(target, pk)).limit(FK_SELECT_LIMIT + 1)
            )
        ).all()
    )
    if len(rows) > FK_SELECT_LIMIT:
        return {"kind": "raw", "label": current_label}
    choices = [(str(getattr(row, pk)), label(row)) for row in rows]
    return {"kind": "select", "choices": choices, "label": current_label}


def _readonly_text(model_admin: ModelAdmin, obj: Any, name: str) -> str:
    if obj is None:
        return "—"
    if name in model_admin.passwords:  # the hash is never shown
        stored = getattr(obj, name, None) or UNUSABLE_PASSWORD_PREFIX
        return "no usable password" if stored.startswith(UNUSABLE_PASSWORD_PREFIX) else "set"
    method = getattr(model_admin, name, None)
    if callable(method) and name not in model_admin.meta.columns:
        return display_text(method(obj), model_admin.site.admin_for)
    info = model_admin.meta.columns.get(name)
    if info is not None and info.relation:
        related = obj.__dict__.get(info.relation)
        if related is not None:
            return display_text(related, model_admin.site.admin_for)
    value = getattr(obj, name, None)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"{len(value)} bytes"  # binary is shown, never edited (see form_ready)
    if info is not None and info.is_json and value is not None:
        return json_text(value) or ""
    return display_text(value() if callable(value) else value, model_admin.site.admin_for)


async def fieldsets(
    model_admin: ModelAdmin,
    session: AsyncSession,
    form: BoundForm[Any],
    obj: Any,
    *,
    read_only: bool,
) -> list[dict[str, Any]]:
    """Return the fieldsets of the page: `[{"name", "rows": [...]}]`."""
    groups = model_admin.fieldsets or [
        (None, {"fields": [*model_admin.editable_fields, *model_admin.readonly]})
    ]
    result = []
    for title, options in groups:
        rows = []
        for raw in options.get("fields", ()):
            info = model_admin.meta.columns.get(raw)
            name = raw
            if info is None and raw in model_admin.meta.relations:
                local = model_admin.meta.relations[raw].local_columns
                name = local[0] if local else raw
            label = (
                verbose(model_admin.meta.columns[name].relation or name)
                if name in model_admin.meta.columns
                else verbose(name)
            )
            if name not in model_admin.editable_fields or read_only:
                if name in model_admin.meta.columns or name in model_admin.readonly:
                    rows.append(
                        {
                            "name": name,
                            "label": label,
                            "readonly": True,
                            "text": _readonly_text(model_admin, obj, name),
                        }
                    )
                continue
            row: dict[str, Any] = {
                "name": name,
                "label": label,
                "readonly": False,
                "field": form[name],
            }
            if model_admin.meta.columns[name].target is not None:
                row["fk"] = await _fk_widget(model_admin, session, name, form.values.get(name))
            rows.append(row)
        result.append(
            {
                "name": title,
                "description": options.get("description"),
                "classes": " ".join(options.get("classes", ())),
                "rows": rows,
            }
        )
    return result
