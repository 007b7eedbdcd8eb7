"""The admin's routes, each gated by `Admin.gate` and the model's permission hooks.

Index, change list (with actions), add, change, delete, autocomplete, export and the
admin's own static files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trivium.admin._changelist import ChangeList
from trivium.admin._changelist import display_text
from trivium.admin._changelist import month_days
from trivium.admin._preserve import carry
from trivium.admin._render import forbidden
from trivium.admin._render import navigation
from trivium.admin._render import page
from trivium.admin._render import page_context
from trivium.admin._render import recent_actions
from trivium.errors import HTTPException
from trivium.http import Request
from trivium.responses import Response
from trivium.routing import Router

if TYPE_CHECKING:
    from trivium.admin._options import ModelAdmin
    from trivium.admin._pages import AdminPage
    from trivium.admin._site import Admin
    from trivium.http import Limits

__all__ = ["build_router", "changelist_context", "may_run", "model_admin_or_404"]

_STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {
    "admin.css": "text/css; charset=utf-8",
    "admin.js": "text/javascript; charset=utf-8",
}


def model_admin_or_404(site: Admin, app_label: str, model_name: str) -> ModelAdmin:
    """Return the admin of the model in the path, or raise 404."""
    model_admin = site.find(app_label, model_name)
    if model_admin is None:
        raise HTTPException(404, "No such model in the admin")
    return model_admin


async def changelist_context(
    model_admin: ModelAdmin, request: Request, session: AsyncSession
) -> dict[str, Any]:
    """Return the change list page's context."""
    from trivium.admin._editable import refused_rows  # it imports the edit pages, which import us

    site = model_admin.site
    listing = await ChangeList.load(model_admin, request, session)
    pk = model_admin.meta.pk.name
    # The list's state rides along on its links to the object pages (`_preserve.py`),
    # with the page shown (a number past the end shows, and so keeps, the last page).
    shown = {"p": str(listing.page)} if "p" in listing.params and listing.page > 0 else None
    state = listing.query(shown, keep_page=True)[1:]
    may_change = await model_admin.permission(request, "change")
    editable = list(model_admin.list_editable) if may_change else []
    # Rows the last save refused, redrawn as the user typed them, each error beside its cell.
    refused = refused_rows(model_admin, request) if editable else {}
    rows = []
    for obj in listing.objects:
        if not await model_admin.permission(request, "view", obj):
            continue
        key = getattr(obj, pk)
        posted = refused.get(str(key), {})
        cells = []
        for column in model_admin.columns:
            value = column.getter(obj)
            cell: dict[str, Any] = {
                "key": column.key,
                "text": display_text(value, site.admin_for),
                "boolean": column.boolean,
                "value": value,
                "link": column.link,
                "errors": [],
            }
            if column.key in editable and posted:
                typed = posted.get("values", {}).get(column.key, "")
                cell["value"] = typed in ("true", "on", "1") if column.boolean else typed
                cell["errors"] = posted.get("errors", {}).get(column.key, [])
            cells.append(cell)
        rows.append(
            {
                "pk": str(key),
                "obj": obj,
                "url": carry(
                    site.url(model_admin.app_label, model_admin.model_name, key, "change"),
                    state,
                ),
                "cells": cells,
            }
        )
    headers = _headers(model_admin, listing)
    filters = []
    for item in model_admin.filters:
        links = []
        names = item.parameters()
        current = {n: listing.params[n] for n in names if n in listing.params}
        for chosen, label in await item.choices(request, model_admin, session):
            changes: dict[str, str | None] = dict.fromkeys(names)
            changes.update(chosen or {})
            links.append(
                {
                    "label": label,
                    "url": listing.query(changes),
                    "selected": (chosen or {}) == current,
                }
            )
        filters.append({"title": item.title, "links": links})
    actions = [
        (name, getattr(fn, "short_description", name.replace("_", " ")))
        for name, fn in model_admin.action_list.items()
        if await may_run(model_admin, request, fn)
    ]
    return {
        "model_admin": model_admin,
        "cl": listing,
        "rows": rows,
        "headers": headers,
        "filters": filters,
        "actions": actions,
        "search": listing.params.get("q", ""),
        "drill": _drill_links(model_admin, listing),
        "can_add": await model_admin.permission(request, "add"),
        "add_url": carry(site.url(model_admin.app_label, model_admin.model_name, "add"), state),
        # A user who may not change the model sees the values, not inputs (as Django).
        "editable": editable,
        "title": f"Select {model_admin.name} to change",
    }


async def may_run(model_admin: ModelAdmin, request: Request, function: Any) -> bool:
    """Whether the user holds every permission the action asks for (as Django's admin)."""
    kinds = getattr(function, "allowed_permissions", ("change",))
    for kind in kinds:
        if not await model_admin.permission(request, kind):
            return False
    return True


def _headers(model_admin: ModelAdmin, listing: ChangeList) -> list[dict[str, Any]]:
    headers = []
    current = dict(listing.order)
    raw = listing.params.get("o")
    for column in model_admin.columns:
        entry: dict[str, Any] = {"text": column.header, "url": None, "sorted": None}
        if column.sort:
            descending = current.get(column.sort) if raw else None
            entry["sorted"] = (
                None if descending is None else ("descending" if descending else "ascending")
            )
            flip = "" if descending else "-"
            entry["url"] = listing.query(
                {"o": f"{flip}{column.sort}" if descending is not None else column.sort}
            )
        headers.append(entry)
    return headers


def _drill_links(model_admin: ModelAdmin, listing: ChangeList) -> list[dict[str, Any]]:
    field = model_admin.date_hierarchy
    if field is None:
        return []
    keys = {part: f"{field}__{part}" for part in ("year", "month", "day")}
    drill = listing.drill
    links: list[dict[str, Any]] = []
    if drill:
        links.append({"label": "All dates", "url": listing.query(dict.fromkeys(keys.values()))})
    if "year" not in drill:
        return links + [
            {"label": str(y), "url": listing.query({keys["year"]: str(y)})} for y in listing.years
        ]
    if "month" not in drill:
        return links + [
            {"label": f"{drill['year']}-{m:02d}", "url": listing.query({keys["month"]: str(m)})}
            for m in range(1, 13)
        ]
    if "day" not in drill:
        return links + [
            {
                "label": f"{drill['year']}-{drill['month']:02d}-{d:02d}",
                "url": listing.query({keys["day"]: str(d)}),
            }
            for d in range(1, month_days(drill["year"], drill["month"]) + 1)
        ]
    return links


def build_router(site: Admin, limits: Limits | None = None) -> Router:
    """Return the router of every admin page (with `limits` on its requests)."""
    from trivium.admin._actions import run_action
    from trivium.admin._edit import register_edit_routes
    from trivium.admin._export import register_export_routes
    from trivium.admin._history import AUDIT_LOG_PERMISSION
    from trivium.admin._history import register_history_routes

    router = Router(include_in_schema=False, limits=limits)
    session_dep: Any = site.db.depends()
    prefix = site.prefix

    @router.get(prefix, name="admin_index")
    async def index(request: Request, session: AsyncSession = session_dep) -> Response:
        denied = await site.gate(request, session)
        if denied is not None:
            return denied
        user = request.user
        can_log = user.is_superuser or await site.user_has_perm(request, AUDIT_LOG_PERMISSION)
        context = {
            "sections": await navigation(site, request),
            "recent": await recent_actions(site, request, session),
            "audit_log_url": site.url("audit") if can_log and site.audit is not None else None,
            "extra_pages": [
                {"title": extra.title, "url": site.url() + extra.path}
                for extra in site.pages
                if await _may_see(site, request, extra)
            ],
            "title": "Site administration",
        }
        return await page(site, request, "index.html", context)

    @router.get(prefix + "/static/{name}", name="admin_static")
    async def static(name: str) -> Response:
        media_type = _STATIC_TYPES.get(name)
        if media_type is None:
            raise HTTPException(404, "Not found")
        body = (_STATIC / name).read_bytes()
        return Response(
            body, media_type=media_type, headers={"cache-control": "public, max-age=3600"}
        )

    @router.get(prefix + "/{app_label}/{model_name}", name="admin_changelist")
    async def changelist(
        request: Request, app_label: str, model_name: str, session: AsyncSession = session_dep
    ) -> Response:
        model_admin = model_admin_or_404(site, app_label, model_name)
        denied = await site.gate(request, session)
        if denied is not None:
            return denied
        if not await model_admin.permission(request, "view"):
            return await forbidden(site, request, f"You may not view {model_admin.name} objects.")
        context = await changelist_context(model_admin, request, session)
        return await page(site, request, "change_list.html", context)

    @router.post(prefix + "/{app_label}/{model_name}", name="admin_changelist_action")
    async def changelist_post(
        request: Request, app_label: str, model_name: str, session: AsyncSession = session_dep
    ) -> Response:
        model_admin = model_admin_or_404(site, app_label, model_name)
        denied = await site.gate(request, session)
        if denied is not None:
            return denied
        if not await model_admin.permission(request, "view"):
            return await forbidden(site, request, f"You may not view {model_admin.name} objects.")
        return await run_action(model_admin, request, session)

    for extra in site.pages:
        _add_page_route(site, router, extra, session_dep)
    register_edit_routes(site, router, session_dep)
    register_export_routes(site, router, session_dep)
    register_history_routes(site, router, session_dep)
    return router


async def _may_see(site: Admin, request: Request, extra: AdminPage) -> bool:
    user = request.user
    if extra.permission is None or user.is_superuser:
        return True
    return await site.user_has_perm(request, extra.permission)


def _add_page_route(site: Admin, router: Router, extra: AdminPage, session_dep: Any) -> None:
    async def endpoint(request: Request, session: AsyncSession = session_dep) -> Response:
        denied = await site.gate(request, session)
        if denied is not None:
            return denied
        if not await _may_see(site, request, extra):
            return await forbidden(site, request, f"You may not view {extra.title}.")
        result = await extra.view(request)
        if isinstance(result, Response):
            return result
        templates = site.templates
        if templates is None:  # pragma: no cover - set when the app is built
            raise HTTPException(500, "the admin has no templates")
        shared = await page_context(site, request)
        context = {**shared, "title": extra.title, **result}
        return await templates.render(
            request, extra.template, context, headers={"cache-control": "no-store"}
        )

    name = "admin_page" + extra.path.replace("/", "_")
    router.add_route(site.prefix + extra.path, endpoint, ["GET", "POST"], name=name)
