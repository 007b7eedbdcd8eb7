"""Bulk actions on the change list: "delete selected" and the `ModelAdmin`'s own.

The selection is either the ticked rows or, with "select all", every row the list's
search and filters match (the query string travels with the form). Rows are read in
keyset batches of `BATCH` on the primary key, so acting on a million rows never holds
them all; each object is checked against the action's permission hooks first, and
the ones the user may not touch are skipped and counted in the message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import parse_qsl

from pydantic import TypeAdapter
from pydantic import ValidationError

from trivium.admin._cascade import DeletionSummary
from trivium.admin._cascade import deletion_summary
from trivium.admin._changelist import filtered_statement
from trivium.admin._options import action
from trivium.admin._options import maybe_await
from trivium.admin._preserve import changelist_url
from trivium.admin._preserve import clean_query
from trivium.admin._render import page
from trivium.admin._routes import may_run
from trivium.responses import RedirectResponse
from trivium.templating import flash

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.admin._options import ModelAdmin
    from trivium.http import Request
    from trivium.responses import Response

__all__ = ["BATCH", "batches", "delete_selected", "run_action"]

BATCH = 500
"""Objects loaded at a time by an action."""


@action(description="Delete selected objects", permissions=("delete",))
async def delete_selected(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, objects: list[Any]
) -> None:
    """Delete `objects` (the built-in action; confirmed on a page first)."""
    for obj in objects:
        await model_admin.delete_model(request, session, obj)
    await session.flush()


async def batches(
    model_admin: ModelAdmin, session: AsyncSession, statement: Select[Any], size: int = BATCH
) -> AsyncIterator[list[Any]]:
    """Yield the rows of `statement` in primary-key order, `size` at a time (keyset)."""
    pk = getattr(model_admin.model, model_admin.meta.pk.name)
    last: Any = None
    while True:
        query = statement.order_by(None).order_by(pk).limit(size)
        if last is not None:
            query = query.where(pk > last)
        rows = list((await session.scalars(query)).all())
        if not rows:
            return
        last = getattr(rows[-1], model_admin.meta.pk.name)
        yield rows
        if len(rows) < size:
            return


class _Query:
    """The change list's query string, as posted with the action form."""

    def __init__(self, raw: str) -> None:
        self.raw = raw[:4000]
        self.query_params = dict(parse_qsl(self.raw))


async def _selection(
    model_admin: ModelAdmin, request: Request, data: Any, messages: list[str]
) -> Select[Any] | None:
    pk = getattr(model_admin.model, model_admin.meta.pk.name)
    if data.get("select_across") == "1":
        params = _Query(str(data.get("_changelist_query", ""))).query_params
        statement, _ = await filtered_statement(model_admin, request, params, messages)
        return statement
    adapter = TypeAdapter(model_admin.meta.pk.value_type)
    keys = []
    for raw in data.getlist("_selected")[:10_000]:
        try:
            keys.append(adapter.validate_python(raw))
        except ValidationError:
            messages.append(f"Ignored the selected key {raw!r}.")
    if not keys:
        return None
    return model_admin.get_queryset(request).where(pk.in_(keys))


async def run_action(model_admin: ModelAdmin, request: Request, session: AsyncSession) -> Response:
    """Run the posted action (or save `list_editable` rows), then go back to the list."""
    data = await request.form()
    back = changelist_url(model_admin, clean_query(str(data.get("_changelist_query", ""))))
    if "_save" in data and model_admin.list_editable:
        from trivium.admin._editable import save_editable

        return await save_editable(model_admin, request, session, data, back)
    name = str(data.get("action", ""))
    function = model_admin.action_list.get(name)
    if function is None:
        flash(request, "No action was chosen, or it does not exist.", "warning")
        return RedirectResponse(back, status_code=303)
    label = getattr(function, "short_description", name)
    if not await may_run(model_admin, request, function):
        # Refused before anything else (the confirmation page of "delete selected" too).
        flash(request, f"You may not run the action “{label}”.", "warning")
        return RedirectResponse(back, status_code=303)
    messages: list[str] = []
    statement = await _selection(model_admin, request, data, messages)
    if statement is None:
        flash(request, "Items must be selected in order to perform actions on them.", "warning")
        return RedirectResponse(back, status_code=303)
    if function is delete_selected and data.get("post") != "yes":
        return await _confirm_delete(model_admin, request, session, statement, data)
    if function is delete_selected:
        blocked = await _blocked_deletion(model_admin, request, session, statement)
        if blocked is not None:
            return await _confirm_delete(
                model_admin, request, session, statement, data, blocked=blocked
            )
    done, skipped, notes = await _apply(model_admin, request, session, function, statement)
    for message in messages + notes:
        flash(request, message, "info")
    if skipped:
        flash(request, f"{skipped} objects were skipped: you may not do that to them.", "warning")
    flash(
        request,
        f"{label}: {done} {model_admin.name} objects.",
        "success",
    )
    return RedirectResponse(back, status_code=303)


async def _apply(
    model_admin: ModelAdmin,
    request: Request,
    session: AsyncSession,
    function: Any,
    statement: Select[Any],
) -> tuple[int, int, list[str]]:
    kinds = getattr(function, "allowed_permissions", ("change",))
    done = skipped = 0
    notes: list[str] = []
    async for rows in batches(model_admin, session, statement):
        allowed = []
        for obj in rows:
            checks = [await model_admin.permission(request, kind, obj) for kind in kinds]
            if all(checks):
                allowed.append(obj)
            else:
                skipped += 1
        if allowed:
            result = await maybe_await(function(model_admin, request, session, allowed))
            if isinstance(result, str) and result not in notes:
                notes.append(result)
            done += len(allowed)
    return done, skipped, notes


async def _blocked_deletion(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, statement: Select[Any]
) -> tuple[list[Any], DeletionSummary] | None:
    """Return a batch whose deletion is refused, and why (as the single delete page).

    Every batch is looked at before anything is deleted: protected rows, or rows of a
    model the user may not delete going along, refuse the whole action.
    """
    async for rows in batches(model_admin, session, statement):
        allowed = [obj for obj in rows if await model_admin.permission(request, "delete", obj)]
        if not allowed:
            continue
        summary = await deletion_summary(model_admin.site, session, model_admin, allowed, request)
        if summary.refused:
            return allowed, summary
    return None


async def _confirm_delete(  # noqa: PLR0913 - the request's parts, and a refusal
    model_admin: ModelAdmin,
    request: Request,
    session: AsyncSession,
    statement: Select[Any],
    data: Any,
    *,
    blocked: tuple[list[Any], DeletionSummary] | None = None,
) -> Response:
    if blocked is None:
        objects = list((await session.scalars(statement.limit(101))).all())
        summary = await deletion_summary(
            model_admin.site, session, model_admin, objects[:100], request
        )
    else:
        objects, summary = blocked
    hidden: list[tuple[str, str]] = [("action", "delete_selected"), ("post", "yes")]
    hidden += [("_changelist_query", str(data.get("_changelist_query", "")))]
    if data.get("select_across") == "1":
        hidden.append(("select_across", "1"))
    else:
        hidden += [("_selected", str(v)) for v in data.getlist("_selected")]
    names = [model_admin.label_of(obj) for obj in objects[:100]]
    context = {
        "model_admin": model_admin,
        "objects": names,
        "more": len(objects) > 100,
        "summary": summary,
        "action_url": model_admin.site.url(model_admin.app_label, model_admin.model_name),
        "changelist_url": changelist_url(
            model_admin, clean_query(str(data.get("_changelist_query", "")))
        ),
        "hidden": hidden,
        "title": "Are you sure?",
    }
    status = 200 if blocked is None else 409 if summary.protected else 403
    return await page(
        model_admin.site, request, "delete_confirmation.html", context, status_code=status
    )
