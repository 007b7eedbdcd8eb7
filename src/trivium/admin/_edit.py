"""Add, change and delete pages, and the foreign-key autocomplete endpoint.

Writes run in the request's transaction, inside a savepoint, so a constraint the
database refuses redisplays the form with the message instead of failing the request.
A change page carries the row's entity tag (its version for `Versioned` models, a hash of
its columns otherwise); a save whose tag no longer matches (someone else saved the
object meanwhile) is refused with 409 and a message, never silently overwritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError
from sqlalchemy import UniqueConstraint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from trivium.admin._cascade import deletion_summary
from trivium.admin._forms import apply_form
from trivium.admin._forms import apply_passwords
from trivium.admin._forms import check_foreign_keys
from trivium.admin._forms import check_identity
from trivium.admin._forms import check_passwords
from trivium.admin._forms import fieldsets
from trivium.admin._forms import form_initial
from trivium.admin._forms import schema_of
from trivium.admin._inlines import Posted
from trivium.admin._inlines import apply_posted
from trivium.admin._inlines import inline_context
from trivium.admin._inlines import inline_permissions
from trivium.admin._inlines import read_posted
from trivium.admin._meta import verbose
from trivium.admin._preserve import carry
from trivium.admin._preserve import changelist_filters
from trivium.admin._preserve import changelist_url
from trivium.admin._query import search_condition
from trivium.admin._render import forbidden
from trivium.admin._render import page
from trivium.admin._render import remember_action
from trivium.admin._routes import model_admin_or_404
from trivium.admin._site import unquote_key
from trivium.admin._tag import page_tag
from trivium.errors import HTTPException
from trivium.forms import bind
from trivium.forms import empty
from trivium.http import Request
from trivium.responses import JSONResponse
from trivium.responses import RedirectResponse
from trivium.responses import Response
from trivium.templating import flash

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from trivium.admin._cascade import DeletionSummary
    from trivium.admin._options import ModelAdmin
    from trivium.admin._site import Admin
    from trivium.forms import BoundForm
    from trivium.routing import Router

__all__ = [
    "MissingObject",
    "load_object",
    "mark_taken",
    "missing_answer",
    "refusal_reason",
    "register_edit_routes",
    "unless_missing",
]

CONFLICT = (
    "Someone else changed this {name} after you opened it, so your changes were not saved. "
    "The page now shows the current version: apply your changes again."
)
AUTOCOMPLETE_PAGE = 20


class MissingObject(HTTPException):
    """No object of the model has the key in the path (or the key is malformed): 404."""

    def __init__(self, model_admin: ModelAdmin, raw: str) -> None:
        super().__init__(404, f"No {model_admin.name} with that key")
        self.model_admin = model_admin
        self.raw = raw


def missing_answer(exc: MissingObject, request: Request) -> Response:
    """Send a browser back to the change list with a warning; re-raise the 404 for others."""
    if "text/html" not in (request.headers.get("accept") or ""):
        raise exc
    model_admin = exc.model_admin
    flash(
        request,
        f"{model_admin.name} with ID “{exc.raw}” doesn't exist. Perhaps it was deleted?",
        "warning",
    )
    target = changelist_url(model_admin, changelist_filters(request))
    return RedirectResponse(target, status_code=303)


async def unless_missing(view: Awaitable[Response], request: Request) -> Response:
    """Await the page `view` of one object; a missing object gets `missing_answer`."""
    try:
        return await view
    except MissingObject as exc:
        return missing_answer(exc, request)


async def load_object(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, raw: str
) -> Any:
    """Return the object with primary key `raw` among `get_queryset`'s rows.

    Raises:
        MissingObject: no such row, or `raw` is not a key of the model.
    """
    meta = model_admin.meta
    try:
        key = TypeAdapter(meta.pk.value_type).validate_python(raw)
    except ValidationError:
        raise MissingObject(model_admin, raw) from None
    statement = model_admin.get_queryset(request).where(getattr(meta.model, meta.pk.name) == key)
    obj = (await session.scalars(statement)).first()
    if obj is None:
        raise MissingObject(model_admin, raw)
    return obj


async def _form_page(  # noqa: PLR0913 - the page's parts, all but four keyword-only
    model_admin: ModelAdmin,
    request: Request,
    session: AsyncSession,
    form: BoundForm[Any],
    obj: Any,
    *,
    status_code: int = 200,
    read_only: bool = False,
    conflict: str | None = None,
    posted: list[Posted] | None = None,
) -> Response:
    site = model_admin.site
    adding = obj is None
    by_relation = {p.inline.relation: p for p in posted or []}
    inlines = [
        await inline_context(
            model_admin,
            i,
            session,
            obj,
            by_relation.get(i.relation),
            await inline_permissions(model_admin, i, request),
        )
        for i in model_admin.inline_sets
    ]
    can_delete = not adding and await model_admin.permission(request, "delete", obj)
    name = model_admin.name
    filters = changelist_filters(request)
    key = None if adding else getattr(obj, model_admin.meta.pk.name)
    context = {
        "model_admin": model_admin,
        "form": form,
        "obj": obj,
        "object_label": None if adding else model_admin.label_of(obj),
        "fieldsets": await fieldsets(model_admin, session, form, obj, read_only=read_only),
        "read_only": read_only,
        "inlines": inlines,
        "adding": adding,
        "etag": None if adding else await page_tag(model_admin, session, obj),
        "conflict": conflict,
        "save_as": model_admin.save_as
        and not adding
        and await model_admin.permission(request, "add"),
        "delete_url": carry(
            site.url(model_admin.app_label, model_admin.model_name, key, "delete"), filters
        )
        if can_delete
        else None,
        "changelist_url": changelist_url(model_admin, filters),
        "history_url": None
        if adding
        else carry(
            site.url(model_admin.app_label, model_admin.model_name, key, "history"), filters
        ),
        "title": f"Add {name}" if adding else (f"View {name}" if read_only else f"Change {name}"),
    }
    return await page(site, request, "change_form.html", context, status_code=status_code)


async def _save(  # noqa: PLR0913 - what a save needs
    model_admin: ModelAdmin,
    request: Request,
    session: AsyncSession,
    form: BoundForm[Any],
    obj: Any,
    change: bool,
    posted: list[Posted] | None = None,
) -> bool:
    """Validate keys, write `obj` (and its inlines) in a savepoint; False with errors on failure."""
    if form.is_valid:  # the keys of a valid form only: an invalid one has no data to read
        await check_foreign_keys(model_admin, session, form)
        await check_identity(model_admin, session, obj, form)  # reads a form still valid
        if form.is_valid:
            check_passwords(model_admin, request.app, obj, form)
    if any(p.errors for p in posted or []):
        form.add_error(None, "Please correct the errors in the related rows below.")
    if not form.is_valid:
        return False
    key = getattr(obj, model_admin.meta.pk.name) if change else None
    written: dict[str, Any] = {}
    try:
        async with session.begin_nested():
            apply_form(model_admin, obj, form.data)
            written.update({n: obj.__dict__.get(n) for n in model_admin.editable_fields})
            await apply_passwords(model_admin, session, obj, form.data, request)
            await model_admin.save_model(request, session, obj, change)
            await session.flush()
            for item in posted or []:
                await apply_posted(session, obj, item)
            await session.flush()
    except IntegrityError as exc:
        if not await mark_taken(model_admin, session, form, written, key):
            form.add_error(
                None,
                f"The {model_admin.name} could not be saved: the database refused it "
                f"({refusal_reason(exc)}).",
            )
        return False
    return True


def _unique_sets(model: type[Any]) -> list[tuple[Any, ...]]:
    """The column sets of the table's unique columns, constraints and indexes."""
    table = model.__table__
    sets: list[tuple[Any, ...]] = [(c,) for c in table.columns if c.unique]
    sets += [tuple(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    sets += [tuple(i.columns) for i in table.indexes if i.unique]
    # SQLAlchemy also lists a `unique=True` column as a constraint: one query, one error.
    seen: set[tuple[str, ...]] = set()
    result = []
    for columns in sets:
        names = tuple(c.key for c in columns)
        if columns and names not in seen and not any(c.primary_key for c in columns):
            seen.add(names)
            result.append(columns)
    return result


async def mark_taken(
    model_admin: ModelAdmin,
    session: AsyncSession,
    form: BoundForm[Any],
    written: dict[str, Any],
    key: Any,
) -> bool:
    """Put "already exists" beside the fields whose unique values another row holds.

    Run after the database refused a save: one query per unique set of the form's fields
    (the values as they were written). Returns whether any field was marked.
    """
    model = model_admin.model
    mapper = model.__mapper__
    pk = getattr(model, model_admin.meta.pk.name)
    marked = False
    for columns in _unique_sets(model):
        names = [mapper.get_property_by_column(c).key for c in columns]
        if not all(n in written and written[n] is not None for n in names):
            continue  # a column the form does not write, or NULL (never a clash)
        statement = select(pk).where(*(getattr(model, n) == written[n] for n in names))
        if key is not None:
            statement = statement.where(pk != key)
        if await session.scalar(statement.limit(1)) is None:
            continue
        labels = " and ".join(verbose(n) for n in names)
        for name in names:
            form.add_error(name, f"A {model_admin.name} with this {labels} already exists.")
        marked = True
    return marked


def refusal_reason(exc: IntegrityError) -> str:
    """Say in a few words which constraint the database refused."""
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return "a value that must be unique is taken"
    if "foreign key" in text:
        return "a related object does not exist"
    if "null" in text:
        return "a required value is missing"
    return "a constraint failed"


def _after_save(
    model_admin: ModelAdmin, request: Request, obj: Any, form_data: Any, verb: str
) -> Response:
    site = model_admin.site
    pk = getattr(obj, model_admin.meta.pk.name)
    remember_action(request, model_admin, obj, verb)
    flash(
        request,
        f"The {model_admin.name} “{model_admin.label_of(obj)}” was {verb} successfully.",
        "success",
    )
    filters = changelist_filters(request)  # the list as the user left it, carried on
    if "_continue" in form_data:
        target = carry(
            site.url(model_admin.app_label, model_admin.model_name, pk, "change"), filters
        )
    elif "_addanother" in form_data:
        target = carry(site.url(model_admin.app_label, model_admin.model_name, "add"), filters)
    else:
        target = changelist_url(model_admin, filters)
    return RedirectResponse(target, status_code=303)


async def add_view(model_admin: ModelAdmin, request: Request, session: AsyncSession) -> Response:
    """The add page."""
    if not await model_admin.permission(request, "add"):
        return await forbidden(
            model_admin.site, request, f"You may not add {model_admin.name} objects."
        )
    schema = schema_of(model_admin, adding=True)
    if request.method == "GET":
        return await _form_page(model_admin, request, session, empty(schema, request=request), None)
    data = await request.form()
    form = bind(schema, data, request=request)
    obj = model_admin.model()
    posted = await _read_inlines(model_admin, request, session, data, None)
    if await _save(model_admin, request, session, form, obj, False, posted):
        return _after_save(model_admin, request, obj, data, "added")
    return await _form_page(
        model_admin, request, session, form, None, status_code=422, posted=posted
    )


async def _read_inlines(  # noqa: PLR0913 - the request's parts and whether it copies
    model_admin: ModelAdmin,
    request: Request,
    session: AsyncSession,
    data: Any,
    obj: Any,
    *,
    as_new: bool = False,
) -> list[Posted]:
    return [
        await read_posted(model_admin, inline, request, session, data, obj, as_new=as_new)
        for inline in model_admin.inline_sets
    ]


async def change_view(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, raw: str
) -> Response:
    """The change page (read-only for users who may view but not change)."""
    site = model_admin.site
    obj = await load_object(model_admin, request, session, raw)
    if not await model_admin.permission(request, "view", obj):
        return await forbidden(site, request, f"You may not view this {model_admin.name}.")
    can_change = await model_admin.permission(request, "change", obj)
    if request.method == "GET":
        schema = schema_of(model_admin, adding=False)
        form = empty(schema, form_initial(model_admin, obj), request=request)
        return await _form_page(model_admin, request, session, form, obj, read_only=not can_change)
    data = await request.form()
    if "_saveasnew" in data and model_admin.save_as:
        if not await model_admin.permission(request, "add"):
            return await forbidden(site, request, f"You may not add {model_admin.name} objects.")
        form = bind(schema_of(model_admin, adding=True), data, request=request)
        new = model_admin.model()
        # The inline rows as posted come along: copies of the rows, the same links.
        posted = await _read_inlines(model_admin, request, session, data, None, as_new=True)
        if await _save(model_admin, request, session, form, new, False, posted):
            return _after_save(model_admin, request, new, {"_continue": "1"}, "added")
        return await _form_page(
            model_admin, request, session, form, None, status_code=422, posted=posted
        )
    if not can_change:
        return await forbidden(site, request, f"You may not change this {model_admin.name}.")
    form = bind(schema_of(model_admin, adding=False), data, request=request)
    if data.get("_etag") != await page_tag(model_admin, session, obj):
        return await _conflict(model_admin, request, session, obj)
    posted = await _read_inlines(model_admin, request, session, data, obj)
    try:
        saved = await _save(model_admin, request, session, form, obj, True, posted)
    except StaleDataError:
        await session.rollback()
        return await _conflict(
            model_admin, request, session, await load_object(model_admin, request, session, raw)
        )
    if saved:
        return _after_save(model_admin, request, obj, data, "changed")
    return await _form_page(
        model_admin, request, session, form, obj, status_code=422, posted=posted
    )


async def _conflict(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, obj: Any
) -> Response:
    await session.refresh(obj)
    form = empty(
        schema_of(model_admin, adding=False), form_initial(model_admin, obj), request=request
    )
    message = CONFLICT.format(name=model_admin.name)
    return await _form_page(
        model_admin, request, session, form, obj, status_code=409, conflict=message
    )


async def delete_view(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, raw: str
) -> Response:
    """The delete confirmation page, and the deletion."""
    site = model_admin.site
    obj = await load_object(model_admin, request, session, raw)
    if not await model_admin.permission(request, "delete", obj):
        return await forbidden(site, request, f"You may not delete this {model_admin.name}.")
    summary = await deletion_summary(site, session, model_admin, [obj], request)
    filters = changelist_filters(request)
    if request.method == "POST" and not summary.refused:
        label = model_admin.label_of(obj)
        await model_admin.delete_model(request, session, obj)
        await session.flush()
        remember_action(request, model_admin, obj, "deleted")
        flash(request, f"The {model_admin.name} “{label}” was deleted successfully.", "success")
        return RedirectResponse(changelist_url(model_admin, filters), status_code=303)
    context = {
        "model_admin": model_admin,
        "objects": [model_admin.label_of(obj)],
        "summary": summary,
        "action_url": carry(
            site.url(model_admin.app_label, model_admin.model_name, raw, "delete"), filters
        ),
        "changelist_url": changelist_url(model_admin, filters),
        "hidden": [],
        "title": "Are you sure?",
    }
    return await page(
        site,
        request,
        "delete_confirmation.html",
        context,
        status_code=_refusal_status(summary) if request.method == "POST" else 200,
    )


def _refusal_status(summary: DeletionSummary) -> int:
    """409 when related rows protect the object, 403 when the user may not delete some."""
    if summary.protected:
        return 409
    return 403 if summary.forbidden else 200


async def autocomplete_view(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, field: str
) -> Response:
    """`GET .../autocomplete/<field>?q=...&page=N`: JSON `{"results": [{"id", "text"}], "more"}`.

    `field` is the option's name (`author`) or its key column (`author_id`).
    """
    relation = model_admin.meta.relations.get(field)
    if relation is not None and len(relation.local_columns) == 1:
        field = relation.local_columns[0]
    if field not in model_admin.autocomplete:
        raise HTTPException(404, f"{field!r} is not an autocomplete field of this model")
    can_edit = await model_admin.permission(request, "add") or await model_admin.permission(
        request, "change"
    )
    target = model_admin.meta.columns[field].target
    target_admin = model_admin.site.admin_for(target) if target is not None else None
    if target_admin is None or not can_edit or not await target_admin.permission(request, "view"):
        raise HTTPException(403, "You may not search these objects")
    page_number = request.query_params.get("page", "1")
    number = int(page_number) if page_number.isdigit() and 0 < int(page_number) <= 1000 else 1
    statement = target_admin.get_queryset(request)
    condition = search_condition(
        target_admin.model, target_admin.search_fields, request.query_params.get("q", "")[:200]
    )
    if condition is not None:
        statement = statement.where(condition)
    pk = target_admin.meta.pk.name
    ordering = [
        getattr(target_admin.model, n.lstrip("-")).desc()
        if n.startswith("-")
        else getattr(target_admin.model, n)
        for n in target_admin.ordering
    ]
    statement = statement.order_by(*ordering, getattr(target_admin.model, pk))
    statement = statement.offset((number - 1) * AUTOCOMPLETE_PAGE).limit(AUTOCOMPLETE_PAGE + 1)
    rows = list((await session.scalars(statement)).all())
    results = [
        {"id": str(getattr(row, pk)), "text": target_admin.label_of(row)}
        for row in rows[:AUTOCOMPLETE_PAGE]
        if await target_admin.permission(request, "view", row)
    ]
    return JSONResponse({"results": results, "more": len(rows) > AUTOCOMPLETE_PAGE})


def register_edit_routes(site: Admin, router: Router, session_dep: Any) -> None:
    """Add the add, change, delete and autocomplete routes to `router`."""
    prefix = site.prefix + "/{app_label}/{model_name}"

    async def prepare(
        request: Request, session: AsyncSession, app_label: str, model_name: str
    ) -> ModelAdmin | Response:
        model_admin = model_admin_or_404(site, app_label, model_name)
        denied = await site.gate(request, session)
        return denied if denied is not None else model_admin

    @router.route(prefix + "/add", methods=["GET", "POST"], name="admin_add")
    async def add(
        request: Request, app_label: str, model_name: str, session: AsyncSession = session_dep
    ) -> Response:
        found = await prepare(request, session, app_label, model_name)
        return found if isinstance(found, Response) else await add_view(found, request, session)

    @router.route(prefix + "/{pk}/change", methods=["GET", "POST"], name="admin_change")
    async def change(
        request: Request,
        app_label: str,
        model_name: str,
        pk: str,
        session: AsyncSession = session_dep,
    ) -> Response:
        found = await prepare(request, session, app_label, model_name)
        pk = unquote_key(pk)  # the segment `Admin.url` quoted
        if isinstance(found, Response):
            return found
        return await unless_missing(change_view(found, request, session, pk), request)

    @router.route(prefix + "/{pk}/delete", methods=["GET", "POST"], name="admin_delete")
    async def delete(
        request: Request,
        app_label: str,
        model_name: str,
        pk: str,
        session: AsyncSession = session_dep,
    ) -> Response:
        found = await prepare(request, session, app_label, model_name)
        pk = unquote_key(pk)  # the segment `Admin.url` quoted
        if isinstance(found, Response):
            return found
        return await unless_missing(delete_view(found, request, session, pk), request)

    @router.get(prefix + "/autocomplete/{field}", name="admin_autocomplete")
    async def autocomplete(
        request: Request,
        app_label: str,
        model_name: str,
        field: str,
        session: AsyncSession = session_dep,
    ) -> Response:
        found = await prepare(request, session, app_label, model_name)
        if isinstance(found, Response):
            return (
                JSONResponse({"detail": "Log in as staff to search"}, status_code=403)
                if found.status_code != 403
                else found
            )
        return await autocomplete_view(found, request, session, field)
