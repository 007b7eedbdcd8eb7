"""FastAPI's `APIRoute`: a trivium `Route` whose options read and set as attributes.

FastAPI keeps each route option in an attribute (`route.operation_id`, `route.summary`,
`route.status_code`...), and its documentation's recipes set them (`route.operation_id =
route.name` before the document is generated). A trivium route keeps them in its
`options` mapping; `APIRoute` reads and writes that mapping through descriptors, so an
attribute costs nothing until it is read and nothing per request, and what is set there
is what the OpenAPI document and the app see.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any
from typing import Generic
from typing import TypeVar
from typing import cast
from typing import overload

from trivium.responses import JSONResponse
from trivium.responses import Response
from trivium.routing import Route
from trivium.routing import RouteOptions
from trivium.routing._options import check_route_options

__all__ = ["APIRoute", "MethodSet"]

T = TypeVar("T")


class MethodSet(set[str]):
    """A route's methods: a set, as FastAPI's `APIRoute.methods`, iterated in declared order.

    The order is the one the methods were given in (the `Allow` header and the document
    list them in it); methods added later come after them, sorted.
    """

    __slots__ = ("_order",)

    def __init__(self, methods: Iterable[str] = ()) -> None:
        order = tuple(dict.fromkeys(method.upper() for method in methods))
        super().__init__(order)
        self._order = order

    def __iter__(self) -> Iterator[str]:
        members = set(super().__iter__())
        ordered = [method for method in self._order if method in members]
        if len(ordered) < len(members):  # changed in place since
            ordered.extend(sorted(members.difference(ordered)))
        return iter(ordered)

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self)) + "}"


class _Option(Generic[T]):
    """A route option read and set as an attribute, with FastAPI's default when unset.

    With `factory`, reading an unset option stores a fresh value (a dict or list the
    caller may change in place, as FastAPI's `route.responses[404] = ...`).
    """

    __slots__ = ("default", "factory", "key")

    def __init__(self, key: str, default: T, factory: Callable[[], T] | None = None) -> None:
        self.key = key
        self.default = default
        self.factory = factory

    @overload
    def __get__(self, route: None, owner: type[Any]) -> _Option[T]: ...

    @overload
    def __get__(self, route: APIRoute, owner: type[Any]) -> T: ...

    def __get__(self, route: APIRoute | None, owner: type[Any]) -> _Option[T] | T:
        if route is None:
            return self
        options = cast("dict[str, Any]", route.options)
        if self.factory is not None:
            return cast("T", options.setdefault(self.key, self.factory()))
        return cast("T", options.get(self.key, self.default))

    def __set__(self, route: APIRoute, value: T) -> None:
        cast("dict[str, Any]", route.options)[self.key] = value


def _list() -> list[str]:
    return []


def _dict() -> dict[int | str, dict[str, Any]]:
    return {}


class APIRoute(Route):
    """FastAPI's route class: an HTTP route with FastAPI's attributes.

    Built by the compat `FastAPI` and `APIRouter` for every route they register (their
    `route_class`), or directly, with FastAPI's keywords:
    `APIRoute("/items", read_items, methods=["GET"], response_model=list[Item])`.

    Raises:
        TypeError: a keyword that is not a route option (as `app.get(...)` would).
    """

    __slots__ = ("_method_set",)

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] | None = None,
        options: RouteOptions | None = None,
        **keywords: Any,
    ) -> None:
        if keywords or options is None:
            check_route_options(keywords, f"APIRoute({path!r})")
            options = cast("RouteOptions", {**(options or {}), **keywords})
        super().__init__(path, endpoint, methods or ["GET"], options)

    @property  # type: ignore[override]  # FastAPI's set, where a trivium route has a tuple
    def methods(self) -> MethodSet:
        """The HTTP methods the route answers, a set (FastAPI's type), in declared order."""
        return self._method_set

    @methods.setter
    def methods(self, methods: Iterable[str]) -> None:
        self._method_set = MethodSet(methods)

    operation_id: _Option[str | None] = _Option("operation_id", None)
    """The operationId in the OpenAPI document (`None`: derived from the name and path)."""
    summary: _Option[str | None] = _Option("summary", None)
    """The OpenAPI summary (`None`: made from the name)."""
    response_description: _Option[str] = _Option("response_description", "Successful Response")
    """The description of the successful response in the document."""
    status_code: _Option[int | None] = _Option("status_code", None)
    """The status of successful responses (`None`: the method's default)."""
    deprecated: _Option[bool | None] = _Option("deprecated", None)
    """Whether the operation is marked deprecated in the document."""
    include_in_schema: _Option[bool] = _Option("include_in_schema", True)
    """Whether the route appears in the OpenAPI document."""
    responses: _Option[dict[int | str, dict[str, Any]]] = _Option("responses", {}, _dict)
    """Extra documented responses, by status."""
    response_class: _Option[type[Response]] = _Option("response_class", JSONResponse)
    """The class returned values are sent with."""
    openapi_extra: _Option[dict[str, Any] | None] = _Option("openapi_extra", None)
    """Merged into the route's operation in the document."""
    tags: _Option[list[str]] = _Option("tags", [], _list)
    """The route's OpenAPI tags (a list that may be changed in place)."""
    generate_unique_id_function: _Option[Callable[[Any], str] | None] = _Option(
        "generate_unique_id_function", None
    )
    """Builds the operationId when none is set (`None`: FastAPI's `generate_unique_id`)."""
    response_model_include: _Option[Any] = _Option("response_model_include", None)
    """Only these fields are returned."""
    response_model_exclude: _Option[Any] = _Option("response_model_exclude", None)
    """These fields are never returned."""
    response_model_by_alias: _Option[bool] = _Option("response_model_by_alias", True)
    """Fields are dumped by alias."""
    response_model_exclude_unset: _Option[bool] = _Option("response_model_exclude_unset", False)
    """Fields the handler never set are left out."""
    response_model_exclude_defaults: _Option[bool] = _Option(
        "response_model_exclude_defaults", False
    )
    """Fields equal to their default are left out."""
    response_model_exclude_none: _Option[bool] = _Option("response_model_exclude_none", False)
    """Fields whose value is `None` are left out."""

    @property
    def description(self) -> str:
        """The OpenAPI description: the option, else the docstring up to a form feed."""
        given = self.options.get("description")
        if given is None:
            given = inspect.cleandoc(getattr(self.endpoint, "__doc__", None) or "")
        return given.split("\f")[0].strip()

    @description.setter
    def description(self, value: str) -> None:
        self.options["description"] = value

    @property
    def unique_id(self) -> str:
        """The route's id: its `operation_id`, else `generate_unique_id_function(route)`."""
        if self.operation_id:
            return self.operation_id
        generate = self.generate_unique_id_function
        if generate is None:
            from trivium.compat.fastapi.utils import generate_unique_id

            generate = generate_unique_id
        return generate(self)
