"""Drawing admin pages: the shared context (navigation, user, links) and error pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError
from sqlalchemy import select

from trivium.errors import HTTPException
from trivium.templating import get_flashed_messages

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.admin._options import ModelAdmin
    from trivium.admin._site import Admin
    from trivium.http import Request
    from trivium.responses import HTMLResponse

__all__ = ["forbidden", "navigation", "page", "page_context", "recent_actions", "remember_action"]

_NO_STORE = {"cache-control": "no-store"}
_RECENT_KEY = "_admin_recent"


async def navigation(site: Admin, request: Request) -> list[dict[str, Any]]:
    """Return the sections of the index: the models the user may view or add."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for model_admin in site.model_admins:
        can_view = await model_admin.permission(request, "view")
        can_add = await model_admin.permission(request, "add")
        if not (can_view or can_add):
            continue
        sections.setdefault(model_admin.section or model_admin.app_label, []).append(
            {
                "name": model_admin.name,
                "url": site.url(model_admin.app_label, model_admin.model_name)
                if can_view
                else None,
                "add_url": site.url(model_admin.app_label, model_admin.model_name, "add")
                if can_add
                else None,
            }
        )
    return [{"name": name, "models": models} for name, models in sections.items()]


async def page(
    site: Admin,
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render `admin/<name>` with the shared context."""
    templates = site.templates
    if templates is None:  # pragma: no cover - set when the app is built
        raise HTTPException(500, "the admin has no templates")
    shared = {**await page_context(site, request), **context}
    if "model_admin" in context:
        shared["ma"] = context["model_admin"]
    return await templates.render(
        request, f"admin/{name}", shared, status_code=status_code, headers=_NO_STORE
    )


async def page_context(site: Admin, request: Request) -> dict[str, Any]:
    """Return the context every admin page's template gets (`admin/base.html` uses it)."""
    return {
        "site": site,
        "user": request.user,
        "messages": get_flashed_messages(request, with_levels=True),
        "logout_url": _sibling(site.login_path(), "logout"),
        "password_url": _sibling(site.login_path(), "password/change"),
    }


def _sibling(login: str, name: str) -> str:
    base = login.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def forbidden(site: Admin, request: Request, detail: str) -> HTMLResponse:
    """The 403 page."""
    context = {"detail": detail, "title": "Permission denied"}
    return await page(site, request, "forbidden.html", context, status_code=403)


def remember_action(request: Request, model_admin: ModelAdmin, obj: Any, action: str) -> None:
    """Keep the user's last actions in their session, for the index page."""
    label = model_admin.label_of(obj) if obj is not None else ""
    pk = getattr(obj, model_admin.meta.pk.name, None) if obj is not None else None
    entry = [
        action,
        model_admin.app_label,
        model_admin.model_name,
        model_admin.name,
        str(label)[:100],
        None if pk is None else str(pk),
    ]
    recent = [e for e in request.session.get(_RECENT_KEY, []) if isinstance(e, list)]
    request.session[_RECENT_KEY] = [entry, *recent][:10]


async def recent_actions(
    site: Admin, request: Request, session: AsyncSession
) -> list[dict[str, Any]]:
    """The user's last actions, newest first: from the audit trail, else their session."""
    if site.audit is not None:
        return await _audited_actions(site, request, session)
    result = []
    for entry in request.session.get(_RECENT_KEY, []):
        if not isinstance(entry, list) or len(entry) != 6:
            continue
        action, label, model, name, text, pk = entry
        url = (
            site.url(label, model, pk, "change") if pk is not None and action != "deleted" else None
        )
        result.append({"action": action, "model": name, "text": text, "url": url})
    return result


async def _audited_actions(
    site: Admin, request: Request, session: AsyncSession
) -> list[dict[str, Any]]:
    entries = await site.audit.log(session, actor_id=request.user.id, limit=10)
    admins = {a.model.__table__.name: a for a in site.model_admins}
    shown = [e for e in entries if e.model in admins]
    labels = await _current_labels(
        session, [(admins[e.model], e.object_pk) for e in shown if e.action != "delete"]
    )
    result = []
    for entry in shown:
        model_admin = admins[entry.model]
        verb = {"create": "added", "update": "changed", "delete": "deleted"}.get(
            entry.action, entry.action
        )
        text = labels.get((entry.model, str(entry.object_pk)))
        url = None
        if text is not None:  # the object still exists (a deleted one has no change page)
            url = site.url(model_admin.app_label, model_admin.model_name, entry.object_pk, "change")
        result.append(
            {
                "action": verb,
                "model": model_admin.name,
                "text": text or f"{model_admin.name} {entry.object_pk}",
                "url": url,
            }
        )
    return result


async def _current_labels(
    session: AsyncSession, wanted: list[tuple[ModelAdmin, Any]]
) -> dict[tuple[str, str], str]:
    """Name the objects that still exist, as Django's "Recent actions" does (a query a model)."""
    keys: dict[ModelAdmin, set[Any]] = {}
    for model_admin, raw in wanted:
        try:
            key = TypeAdapter(model_admin.meta.pk.value_type).validate_python(str(raw))
        except ValidationError:
            continue
        keys.setdefault(model_admin, set()).add(key)
    labels: dict[tuple[str, str], str] = {}
    for model_admin, found in keys.items():
        pk = model_admin.meta.pk.name
        column = getattr(model_admin.model, pk)
        for obj in await session.scalars(select(model_admin.model).where(column.in_(found))):
            name = model_admin.model.__table__.name
            labels[(name, str(getattr(obj, pk)))] = model_admin.label_of(obj)
    return labels
