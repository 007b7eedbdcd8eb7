"""`list_editable`: saving the columns edited in place on the change list.

Each row posts `form-<pk>-<field>` inputs; only the fields named in `list_editable`
are read, each row is validated with the change form's schema restricted to them, the
change permission is checked per object, and one invalid row stops nothing but itself
(its errors are flashed; each row is written in its own savepoint, so a value the
database refuses, a taken unique one, say, is flashed too).

A refused row is redrawn as the user typed it: its values and errors are kept in the
session (`REFUSED_KEY`) for the change list page the save redirects to, which shows them
in the row's cells with each message beside its cell (`refused_rows`), once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError
from pydantic import create_model
from sqlalchemy.exc import IntegrityError

from trivium.admin._edit import mark_taken
from trivium.admin._edit import refusal_reason
from trivium.admin._forms import apply_form
from trivium.admin._forms import schema_of
from trivium.responses import RedirectResponse
from trivium.templating import flash

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.admin._options import ModelAdmin
    from trivium.http import Request
    from trivium.responses import Response

__all__ = ["REFUSED_KEY", "refused_rows", "save_editable"]

REFUSED_KEY = "_admin_refused"
"""The session key of the refused `list_editable` rows, for the next change list page."""
_LONGEST = 2000
"""The most characters of a refused value kept for the redraw."""


def _list_key(model_admin: ModelAdmin) -> str:
    return f"{model_admin.app_label}.{model_admin.model_name}"


def refused_rows(model_admin: ModelAdmin, request: Request) -> dict[str, dict[str, Any]]:
    """Take the rows of this model's change list refused by the last save (once).

    Returns `{pk: {"values": {field: text}, "errors": {field: [message]}}}`.
    """
    kept = request.session.get(REFUSED_KEY)
    if not isinstance(kept, dict) or _list_key(model_admin) not in kept:
        return {}
    rest = {k: v for k, v in kept.items() if k != _list_key(model_admin)}
    if rest:
        request.session[REFUSED_KEY] = rest
    else:
        request.session.pop(REFUSED_KEY, None)
    rows = kept[_list_key(model_admin)]
    return rows if isinstance(rows, dict) else {}


def _keep_refused(
    model_admin: ModelAdmin, request: Request, refused: dict[str, dict[str, Any]]
) -> None:
    kept = request.session.get(REFUSED_KEY)
    kept = dict(kept) if isinstance(kept, dict) else {}
    if refused:
        kept[_list_key(model_admin)] = refused
    else:
        kept.pop(_list_key(model_admin), None)
    if kept:
        request.session[REFUSED_KEY] = kept
    else:
        request.session.pop(REFUSED_KEY, None)


async def save_editable(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, data: Any, back: str
) -> Response:
    """Save the posted `list_editable` rows and go back to the list."""
    from trivium.forms import bind

    fields = list(model_admin.list_editable)
    base = schema_of(model_admin, adding=False)
    schema = create_model(  # type: ignore[call-overload]
        f"{model_admin.model.__name__}ListForm",
        **{name: (base.model_fields[name].annotation, base.model_fields[name]) for name in fields},
    )
    adapter = TypeAdapter(model_admin.meta.pk.value_type)
    pk = getattr(model_admin.model, model_admin.meta.pk.name)
    saved = 0
    refused: dict[str, dict[str, Any]] = {}
    # One key a row, in order: a page may post a row's key more than once (older pages
    # drew one in each editable cell), and the cap is on rows, not on posted keys.
    keys = list(dict.fromkeys(str(raw) for raw in data.getlist("_pk")))
    for raw in keys[: model_admin.list_per_page]:
        try:
            key = adapter.validate_python(raw)
        except ValidationError:
            continue
        obj = (await session.scalars(model_admin.get_queryset(request).where(pk == key))).first()
        if obj is None or not await model_admin.permission(request, "change", obj):
            flash(request, f"Row {raw} was not saved: you may not change it.", "warning")
            continue
        row = {name: value for name in fields for value in data.getlist(f"form-{raw}-{name}")[-1:]}
        form = bind(schema, row)
        if not form.is_valid:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            flash(request, f"Row {raw} was not saved: {problems}", "error")
            refused[raw] = _refusal(row, form.errors)
            continue
        before = {name: getattr(obj, name, None) for name in fields}
        written: dict[str, Any] = {}
        try:
            # One savepoint per row: a value the database refuses stops that row only.
            async with session.begin_nested():
                apply_form(model_admin, obj, form.data, fields)
                written = {name: getattr(obj, name, None) for name in fields}
                if written == before:
                    continue  # the row was posted as it was: nothing to save, nothing to count
                await model_admin.save_model(request, session, obj, True)
                await session.flush()
        except IntegrityError as exc:
            reason = f"The database refused it ({refusal_reason(exc)})."
            flash(request, f"Row {raw} was not saved: {reason[0].lower()}{reason[1:]}", "error")
            if not await mark_taken(model_admin, session, form, written, key):
                for name in fields:  # beside the values the user changed
                    if written.get(name) != before[name]:
                        form.add_error(name, reason)
            refused[raw] = _refusal(row, form.errors)
            continue
        saved += 1
    _keep_refused(model_admin, request, refused)
    if saved == 1:
        flash(request, f"1 {model_admin.name} object was changed successfully.", "success")
    else:
        flash(request, f"{saved} {model_admin.name} objects were changed successfully.", "success")
    return RedirectResponse(back, status_code=303)


def _refusal(row: dict[str, Any], errors: Any) -> dict[str, Any]:
    """What the change list redraws of a refused row: its values as posted, its errors."""
    return {
        "values": {name: str(value)[:_LONGEST] for name, value in row.items()},
        "errors": {str(name): [str(m) for m in messages] for name, messages in errors.items()},
    }
