"""Object history, "revert to this version" and the global audit log, read from `trivium.audit`.

The admin does not keep a log of its own: with `Audit(db)` installed on the app, every
write (the admin's, `crud_router`'s, scripts', bulk updates) is in the trail, and these
pages show it. Without it they say how to install it. The global log is for superusers
and for staff holding the `admin.view_auditlog` permission; entries of models the user
may not view are left out (by the query: every page holds up to 50 entries the user
may see).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trivium.admin._changelist import display_text
from trivium.admin._edit import load_object
from trivium.admin._edit import refusal_reason
from trivium.admin._edit import unless_missing
from trivium.admin._meta import verbose
from trivium.admin._preserve import carried_query
from trivium.admin._preserve import carry
from trivium.admin._preserve import changelist_filters
from trivium.admin._preserve import changelist_url
from trivium.admin._render import forbidden
from trivium.admin._render import page
from trivium.admin._routes import model_admin_or_404
from trivium.admin._site import unquote_key
from trivium.errors import HTTPException
from trivium.http import Request
from trivium.responses import RedirectResponse
from trivium.responses import Response
from trivium.templating import flash

if TYPE_CHECKING:
    from trivium.admin._options import ModelAdmin
    from trivium.admin._site import Admin
    from trivium.routing import Router

__all__ = ["AUDIT_LOG_PERMISSION", "register_history_routes"]

AUDIT_LOG_PERMISSION = "admin.view_auditlog"
"""The permission (besides superuser) that opens the global audit log page."""
LOG_PAGE = 50
HISTORY_LIMIT = 200


async def _actors(site: Admin, session: AsyncSession, entries: list[Any]) -> dict[str, str]:
    """Name the users behind `entries` (one query)."""
    ids = {e.actor_id for e in entries if e.actor_kind in ("user", "token", "jwt") and e.actor_id}
    model = site.auth.user_model
    keys = [int(i) for i in ids if str(i).isdigit()]
    if not keys:
        return {}
    users = await session.scalars(select(model).where(model.id.in_(keys)))
    return {str(user.id): str(user.identifier) for user in users}


def shown_fields(model_admin: ModelAdmin) -> frozenset[str]:
    """The fields whose values the change page shows (and so the history may).

    Its form's fields and read-only fields (a relationship's key columns with it), the
    inlines' many-to-many links and the primary key; an excluded field, or one that
    `fields` / `fieldsets` leave out, is never shown.
    """
    meta = model_admin.meta
    names = {meta.pk.name, *model_admin.editable_fields, *model_admin.readonly}
    keys = {
        column
        for name in names
        if name in meta.relations
        for column in meta.relations[name].local_columns
    }
    links = {inline.relation for inline in model_admin.inline_sets}
    return frozenset(names | keys | links)


def actor_text(entry: Any, names: dict[str, str]) -> str:
    """Who wrote `entry`: a user's name now with their id, which renaming cannot change.

    `"ann@example.com (#2)"`, `"ann@example.com (#2, token)"` for an API token; a user
    since deleted is `"#2"` (`"#2, token"`); a named actor (`actor(name=...)`) or the
    system as recorded.
    """
    kind = entry.actor_kind
    if kind in ("user", "token", "jwt") and entry.actor_id:
        how = "" if kind == "user" else f", {kind}"
        name = names.get(str(entry.actor_id))
        return f"{name} (#{entry.actor_id}{how})" if name else f"#{entry.actor_id}{how}"
    who = entry.actor_id or kind
    return who if kind in ("user", "system") else f"{who} ({kind})"


def _entry(
    entry: Any, names: dict[str, str], shown: frozenset[str] | None = None
) -> dict[str, Any]:
    who = actor_text(entry, names)
    changes = [
        {"field": field, "before": display_text(pair[0]), "after": display_text(pair[1])}
        for field, pair in sorted(entry.changes.items())
        if shown is None or field in shown
    ]
    return {
        "id": entry.id,
        "when": entry.created_at.isoformat(sep=" ", timespec="seconds"),
        "action": entry.action,
        "actor": who,
        "request_id": entry.request_id,
        "changes": changes,
        "model": entry.model,
        "object_pk": entry.object_pk,
    }


def _audit(site: Admin) -> Any:
    return site.audit


async def history_view(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, raw: str
) -> Response:
    """The history page of one object: the entries of the object that has its key now.

    A key used again after a delete (SQLite reuses the highest deleted id) does not
    bring the deleted object's entries along (`audit.history`).
    """
    site = model_admin.site
    obj = await load_object(model_admin, request, session, raw)
    if not await model_admin.permission(request, "view", obj):
        return await forbidden(site, request, f"You may not view this {model_admin.name}.")
    audit = _audit(site)
    entries: list[Any] = []
    if audit is not None:
        try:
            entries = await audit.history(
                session,
                model_admin.model,
                getattr(obj, model_admin.meta.pk.name),
                limit=HISTORY_LIMIT,
            )
        except LookupError:
            entries = []
    names = await _actors(site, session, entries)
    shown = shown_fields(model_admin)
    filters = changelist_filters(request)
    context = {
        "model_admin": model_admin,
        "object_label": model_admin.label_of(obj),
        "entries": [_entry(e, names, shown) for e in entries],
        "audit_installed": audit is not None,
        "can_revert": await model_admin.permission(request, "change", obj),
        "change_url": carry(
            site.url(model_admin.app_label, model_admin.model_name, raw, "change"), filters
        ),
        "changelist_url": changelist_url(model_admin, filters),
        "carried": carried_query(filters),
        "revert_base": site.url(model_admin.app_label, model_admin.model_name, raw, "history"),
        "title": f"History: {model_admin.label_of(obj)}",
    }
    return await page(site, request, "history.html", context)


def revertable_fields(model_admin: ModelAdmin) -> frozenset[str]:
    """The fields a revert from the admin may write: those its change form accepts.

    The form's editable fields (never a read-only, excluded or generated one, nor one
    `fields` / `fieldsets` leave out) and the many-to-many links of its inlines.
    """
    links = {i.relation for i in model_admin.inline_sets if i.kind == "many-to-many"}
    return frozenset({*model_admin.editable_fields, *links})


def _left_text(model_admin: ModelAdmin, left: list[str]) -> str:
    """Name the fields a revert left as they are (those the page shows; count the others)."""
    shown = shown_fields(model_admin)
    columns = model_admin.meta.columns
    named = [
        verbose(columns[n].relation or n) if n in columns else verbose(n)
        for n in left
        if n in shown
    ]
    hidden = len(left) - len(named)
    if hidden:
        named.append(f"{hidden} field{'s' if hidden > 1 else ''} not on this form")
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f" Left as they are (you cannot edit them here): {listed}."


async def revert_view(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, raw: str, entry_id: int
) -> Response:
    """Put the object back as it was after one of its entries (itself audited).

    Only the fields the change form lets the user edit are written; the page says which
    others it left as they are.
    """
    site = model_admin.site
    audit = _audit(site)
    if audit is None:
        raise HTTPException(404, "The audit trail is not installed")
    obj = await load_object(model_admin, request, session, raw)
    if not await model_admin.permission(request, "change", obj):
        return await forbidden(site, request, f"You may not change this {model_admin.name}.")
    key = getattr(obj, model_admin.meta.pk.name)
    try:
        entries = await audit.history(
            session, model_admin.model, key, limit=HISTORY_LIMIT, all_lives=True
        )
    except LookupError:
        entries = []  # the model is not audited: it has no entries to revert to
    entry = next((e for e in entries if e.id == entry_id), None)
    if entry is None:
        raise HTTPException(404, "No such entry in this object's history")
    try:
        changes = await audit.revert_changes(session, entry, to="after")
    except ValueError:
        # An entry of an earlier object that had this key (deleted, its key used again).
        return _refused(
            site,
            request,
            model_admin,
            raw,
            f"That entry is of an earlier {model_admin.name} that had the same key and was "
            f"deleted: it cannot be put back over this {model_admin.name}. Nothing changed.",
        )
    if changes is None and not await model_admin.permission(request, "delete", obj):
        # After a "delete" entry the object is gone: the revert would delete it.
        return await forbidden(site, request, f"You may not delete this {model_admin.name}.")
    allowed = revertable_fields(model_admin)
    left = sorted(set(changes or ()) - allowed)
    when = f"{entry.created_at:%Y-%m-%d %H:%M:%S}"
    try:
        async with session.begin_nested():
            await audit.revert(session, entry, to="after", actor=request.user, fields=allowed)
            await session.flush()
    except IntegrityError as exc:
        # The old values clash with today's rows: say so on the history page, never a 500.
        return _refused(
            site,
            request,
            model_admin,
            raw,
            f"The {model_admin.name} could not be put back as it was on {when}: the database "
            f"refused it ({refusal_reason(exc)}).",
        )
    message = f"The {model_admin.name} was put back as it was on {when}."
    flash(request, message + (_left_text(model_admin, left) if left else ""), "success")
    filters = changelist_filters(request)
    if changes is None:  # deleted: back to the list
        return RedirectResponse(changelist_url(model_admin, filters), status_code=303)
    change = site.url(model_admin.app_label, model_admin.model_name, raw, "change")
    return RedirectResponse(carry(change, filters), status_code=303)


def _refused(
    site: Admin, request: Request, model_admin: ModelAdmin, raw: str, message: str
) -> RedirectResponse:
    """Say why a revert was refused, on the object's history page."""
    flash(request, message, "error")
    history = site.url(model_admin.app_label, model_admin.model_name, raw, "history")
    return RedirectResponse(carry(history, changelist_filters(request)), status_code=303)


async def _present(
    viewable: dict[str, ModelAdmin], request: Request, session: AsyncSession, entries: list[Any]
) -> set[tuple[str, str]]:
    """Return the (table, key) of the entries' objects that still exist: one query per model."""
    wanted: dict[str, dict[Any, str]] = {}
    for entry in entries:
        model_admin = viewable.get(entry.model)
        if model_admin is None:
            continue
        try:
            key = TypeAdapter(model_admin.meta.pk.value_type).validate_python(entry.object_pk)
        except ValidationError:
            continue
        wanted.setdefault(entry.model, {})[key] = entry.object_pk
    present: set[tuple[str, str]] = set()
    for table, keys in wanted.items():
        meta = viewable[table].meta
        column = getattr(meta.model, meta.pk.name)
        statement = viewable[table].get_queryset(request).where(column.in_(list(keys)))
        for obj in await session.scalars(statement):
            raw = keys.get(getattr(obj, meta.pk.name))
            if raw is not None:
                present.add((table, raw))
    return present


async def log_view(site: Admin, request: Request, session: AsyncSession) -> Response:
    """The global audit log: newest first, `?before=<id>` for the next page, `?model=<table>`."""
    user = request.user
    if not (user.is_superuser or await site.user_has_perm(request, AUDIT_LOG_PERMISSION)):
        return await forbidden(site, request, "You may not read the audit log.")
    audit = _audit(site)
    messages: list[str] = []
    entries: list[Any] = []
    params = request.query_params
    before_raw = params.get("before")
    before = int(before_raw) if before_raw and before_raw.isdigit() else None
    if before is not None and before >= 2**63:  # past any key: the driver would refuse it
        before = None
    if before_raw and before is None:
        messages.append(f"Ignored the page cursor {before_raw!r}.")
    viewable: dict[str, ModelAdmin] = {}
    for registered in site.model_admins:
        if await registered.permission(request, "view"):
            viewable[registered.model.__table__.name] = registered
    table = params.get("model") or None
    if table is not None and table not in viewable:
        messages.append(f"Ignored the unknown model {table!r}.")
        table = None
    more = False
    if audit is not None:
        # Only the models the user may view, in the query: each page holds up to
        # LOG_PAGE of them (a superuser also sees the models the admin does not show).
        models: str | list[str] | None = table
        if table is None and not user.is_superuser:
            models = list(viewable)
        entries = await audit.log(session, model=models, limit=LOG_PAGE + 1, before=before)
        more = len(entries) > LOG_PAGE
        entries = entries[:LOG_PAGE]
    names = await _actors(site, session, entries)
    present = await _present(viewable, request, session, entries)
    rows = []
    for entry in entries:
        model_admin: ModelAdmin | None = viewable.get(entry.model)
        row = _entry(entry, names, shown_fields(model_admin) if model_admin else None)
        row["model_name"] = model_admin.name if model_admin else entry.model
        row["url"] = (
            site.url(model_admin.app_label, model_admin.model_name, entry.object_pk, "history")
            if model_admin and (entry.model, entry.object_pk) in present
            else None  # a deleted object has no page to link to
        )
        rows.append(row)
    context = {
        "entries": rows,
        "messages_extra": messages,
        "audit_installed": audit is not None,
        "models": [(name, admin.name) for name, admin in viewable.items()],
        "current_model": table,
        "next_url": site.url(
            "audit", before=str(entries[-1].id), **({"model": table} if table else {})
        )
        if more
        else None,
        "title": "Audit log",
    }
    return await page(site, request, "audit_log.html", context)


def register_history_routes(site: Admin, router: Router, session_dep: Any) -> None:
    """Add the history, revert and audit log routes to `router`."""
    prefix = site.prefix + "/{app_label}/{model_name}/{pk}/history"

    @router.get(site.prefix + "/audit", name="admin_audit_log")
    async def audit_log(request: Request, session: AsyncSession = session_dep) -> Response:
        denied = await site.gate(request, session)
        return denied if denied is not None else await log_view(site, request, session)

    @router.get(prefix, name="admin_history")
    async def history(
        request: Request,
        app_label: str,
        model_name: str,
        pk: str,
        session: AsyncSession = session_dep,
    ) -> Response:
        model_admin = model_admin_or_404(site, app_label, model_name)
        denied = await site.gate(request, session)
        key = unquote_key(pk)
        if denied is not None:
            return denied
        return await unless_missing(history_view(model_admin, request, session, key), request)

    @router.post(prefix + "/{entry_id}/revert", name="admin_revert")
    async def revert(  # noqa: PLR0913 - the path's parts, the request and the session
        request: Request,
        app_label: str,
        model_name: str,
        pk: str,
        entry_id: int,
        session: AsyncSession = session_dep,
    ) -> Response:
        model_admin = model_admin_or_404(site, app_label, model_name)
        denied = await site.gate(request, session)
        key = unquote_key(pk)
        if denied is not None:
            return denied
        return await unless_missing(
            revert_view(model_admin, request, session, key, entry_id), request
        )
