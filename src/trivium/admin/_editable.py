"""`list_editable`: saving the columns edited in place on the change list.

Each row posts `form-<pk>-<field>` inputs; only the fields named in `list_editable`
are read, each row is validated with the change form's schema restricted to them, the
change permission is checked per object, and one invalid row stops nothing but itself
(its errors are flashed; each row is written in its own savepoint, so a value the
database refuses, a taken unique one, say, is flashed too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError
from pydantic import create_model
from sqlalchemy.exc import IntegrityError

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

__all__ = ["save_editable"]


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
            continue
        before = [getattr(obj, name, None) for name in fields]
        try:
            # One savepoint per row: a value the database refuses stops that row only.
            async with session.begin_nested():
                apply_form(model_admin, obj, form.data, fields)
                if [getattr(obj, name, None) for name in fields] == before:
                    continue  # the row was posted as it was: nothing to save, nothing to count
                await model_admin.save_model(request, session, obj, True)
                await session.flush()
        except IntegrityError as exc:
            flash(
                request,
                f"Row {raw} was not saved: the database refused it ({refusal_reason(exc)}).",
                "error",
            )
            continue
        saved += 1
    if saved == 1:
        flash(request, f"1 {model_admin.name} object was changed successfully.", "success")
    else:
        flash(request, f"{saved} {model_admin.name} objects were changed successfully.", "success")
    return RedirectResponse(back, status_code=303)
