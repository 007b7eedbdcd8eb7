"""Build the OpenAPI 3.1 document of an app from its compiled routes.

Run once, after `App.build()`, by `App.openapi()`, which caches the result. Every route
in `app.routes` (and every webhook route) becomes one operation per method; the schemas
of all of them are generated in one pydantic pass (see `_registry`), so models shared by
several operations appear once in `components.schemas`, and models whose input and
output shapes differ appear twice, as `Model-Input` and `Model-Output`.

The shared error components (`HTTPError`, `HTTPValidationError`) are added whenever an
operation refers to them, so declared responses (and dependencies' responses) may point
at them with a plain `$ref`. A security scheme registered with `security_schemes(app)`
replaces the one the dependencies carry under the same name (the auth battery puts its
token URL there, which depends on where the app mounts its views).
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterator
from typing import Any

from trivium.errors import ConfigurationError
from trivium.openapi._body import request_body
from trivium.openapi._config import OpenAPI
from trivium.openapi._config import extra_components
from trivium.openapi._config import get_config
from trivium.openapi._config import scheme_overrides
from trivium.openapi._operation import HTTP_ERROR_SCHEMA
from trivium.openapi._operation import VALIDATION_SCHEMAS
from trivium.openapi._operation import deep_merge
from trivium.openapi._operation import openapi_path
from trivium.openapi._operation import parameters
from trivium.openapi._operation import responses
from trivium.openapi._operation import security_requirements
from trivium.openapi._registry import SchemaRegistry
from trivium.routing import Route

__all__ = ["OPENAPI_VERSION", "description_of", "generate", "operation_id", "schema_routes"]

OPENAPI_VERSION = "3.1.0"
_HTTP_ERROR_REF = "#/components/schemas/HTTPError"
_VALIDATION_REF = "#/components/schemas/HTTPValidationError"


def schema_routes(app: Any) -> list[Route]:
    """Return the HTTP routes of `app` that appear in its document."""
    return [
        r for r in app.routes if isinstance(r, Route) and r.options.get("include_in_schema", True)
    ]


def _route_label(route: Route) -> str:
    return f"{', '.join(route.methods)} {route.path}"


def operation_id(route: Route, method: str) -> str:
    """Return the operationId of `route`'s `method`: the `operation_id` option or a derived one.

    The derived id is the route name, the path and the method joined with underscores
    (`read_item_items__item_id__get`), so it stays the same across runs. An explicit id on
    a route with several methods gets the method appended.
    """
    explicit = route.options.get("operation_id")
    if explicit:
        return explicit if len(route.methods) == 1 else f"{explicit}_{method.lower()}"
    generate = route.options.get("generate_unique_id_function")
    if generate is not None:
        return str(generate(route))
    name = route.name or getattr(route.endpoint, "__name__", "operation")
    return re.sub(r"\W", "_", f"{name}{openapi_path(route.path)}") + f"_{method.lower()}"


def description_of(route: Route) -> str | None:
    """Return the operation description: the `description` option or the docstring."""
    description = route.options.get("description")
    if description:
        return description
    doc = inspect.getdoc(route.endpoint)
    if not doc:
        return None
    # As in FastAPI, a form feed ends the part of the docstring meant for the docs.
    return doc.split("\f")[0].strip() or None


class _Builder:
    """State shared by the operations of one document."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.registry = SchemaRegistry(separate_modes=app.docs_config.separate_input_output_schemas)
        self.operation_ids: dict[str, Route] = {}
        self.security_schemes: dict[str, dict[str, Any]] = {}
        self.uses_validation = False
        self.uses_http_error = False
        self.body_errors = get_config(app).document_body_errors
        self.dependency_errors = get_config(app).document_dependency_responses
        self.scheme_overrides = scheme_overrides(app)
        self.last_scheme_wins = get_config(app).security_scheme_conflicts == "last"

    def _claim_id(self, route: Route, method: str) -> str:
        op_id = operation_id(route, method)
        other = self.operation_ids.get(op_id)
        if other is not None and other is not route:
            raise ConfigurationError(
                f"operationId {op_id!r} is used by both {_route_label(other)} and "
                f"{_route_label(route)}; give one of them another operation_id=...",
                "openapi-duplicate-operation-id",
            )
        self.operation_ids[op_id] = route
        return op_id

    def _security(self, route: Route) -> list[dict[str, list[str]]] | None:
        requirements = security_requirements(route)
        if not requirements:
            return None
        full: dict[str, list[str]] = {}
        mandatory: dict[str, list[str]] = {}
        for requirement in requirements:
            override = self.scheme_overrides.get(requirement.name)
            scheme = copy.deepcopy(dict(override if override is not None else requirement.scheme))
            if self.last_scheme_wins:  # FastAPI's rule (the compat layer's)
                self.security_schemes[requirement.name] = scheme
            known = self.security_schemes.setdefault(requirement.name, scheme)
            if known != scheme:
                raise ConfigurationError(
                    f"two different security schemes are both named {requirement.name!r} "
                    f"({known} and {scheme}); give one of them another scheme_name=...",
                    "openapi-security-scheme-conflict",
                )
            scopes = full.setdefault(requirement.name, [])
            scopes.extend(s for s in requirement.scopes if s not in scopes)
            if not requirement.optional:
                mandatory[requirement.name] = scopes
        return [full] if mandatory == full else [full, mandatory]

    def operation(self, route: Route, method: str, *, webhook: bool = False) -> dict[str, Any]:
        """Return the Operation object of `route`'s `method`.

        A webhook is a request the app sends, so it documents no error answers of ours.
        """
        options = route.options
        op_id = self._claim_id(route, method)
        op: dict[str, Any] = {}
        if options.get("tags"):
            op["tags"] = list(options["tags"])
        name: str = route.name or getattr(route.endpoint, "__name__", None) or ""
        # As FastAPI: "read_item" → "Read Item", a dash kept ("item-url" → "Item-Url").
        op["summary"] = options.get("summary") or name.replace("_", " ").title()
        description = description_of(route)
        if description:
            op["description"] = description
        op["operationId"] = op_id
        if options.get("deprecated"):
            op["deprecated"] = True
        params = parameters(route, self.registry)
        if params:
            op["parameters"] = params
        body = request_body(route, op_id, self.registry)
        if body is not None:
            op["requestBody"] = body
        has_input = bool(route.analysis is not None and route.analysis.fields) and not webhook
        self.uses_validation = self.uses_validation or has_input
        body_errors = self.body_errors and body is not None and not webhook
        self.uses_http_error = self.uses_http_error or body_errors
        op["responses"] = responses(
            route,
            self.registry,
            has_input,
            body_errors,
            dependency_errors=self.dependency_errors and not webhook,
            operation_id=op_id,
        )
        security = self._security(route)
        if security is not None:
            op["security"] = security
        extra = options.get("openapi_extra")
        if extra:
            deep_merge(op, extra)
        return op

    def path_items(self, routes: list[Route], *, webhook: bool = False) -> dict[str, Any]:
        """Return the Path Item objects of `routes`, by path (or webhook name)."""
        items: dict[str, Any] = {}
        for route in routes:
            if route.analysis is None:
                route.compile(self.app)
            key = route.path.lstrip("/") if webhook else openapi_path(route.path)
            item = items.setdefault(key, {})
            for method in route.methods:
                if method.lower() in item:
                    continue  # the route registered first serves it (the dispatcher's rule)
                item[method.lower()] = self.operation(route, method, webhook=webhook)
        return items


def _webhook_routes(app: Any) -> list[Route]:
    return [
        r
        for plugin in app.plugins_of(OpenAPI)
        for r in plugin.webhooks.routes
        if isinstance(r, Route) and r.options.get("include_in_schema", True)
    ]


def _refs(node: Any) -> Iterator[str]:
    """Yield every `$ref` found in `node` (nested dicts and lists)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _components(
    app: Any, builder: _Builder, definitions: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    components: dict[str, dict[str, Any]] = {}
    if definitions:
        components["schemas"] = dict(sorted(definitions.items()))
    for section, entries in extra_components(app).items():
        components.setdefault(section, {}).update(entries)
    # Every scheme a plugin or `security_schemes(app)` declares is documented, used by a
    # dependency or not: a route's `openapi_extra` security may name it.
    schemes = dict(builder.security_schemes)
    for name, scheme in builder.scheme_overrides.items():
        schemes.setdefault(name, dict(scheme))
    if schemes:
        components["securitySchemes"] = schemes
    return components


def generate(app: Any) -> dict[str, Any]:
    """Build the OpenAPI 3.1 document of `app` (use `app.openapi()`, which caches it).

    Raises:
        ConfigurationError: two operations share an operationId, or two different security
            schemes share a name.
    """
    app.build()
    builder = _Builder(app)
    paths = builder.path_items(schema_routes(app))
    hooks = builder.path_items(_webhook_routes(app), webhook=True)
    definitions = builder.registry.resolve()
    referenced = set(_refs(paths)) | set(_refs(hooks))
    if builder.uses_validation or _VALIDATION_REF in referenced:
        for name, schema in VALIDATION_SCHEMAS.items():
            definitions.setdefault(name, schema)
    if builder.uses_http_error or _HTTP_ERROR_REF in referenced:
        definitions.setdefault("HTTPError", HTTP_ERROR_SCHEMA)
    docs = app.docs_config
    info: dict[str, Any] = {"title": docs.title, "version": docs.version}
    if docs.description:
        info["description"] = docs.description
    info.update(docs.info)
    info.update(get_config(app).info)
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
    if docs.servers:
        document["servers"] = [dict(s) for s in docs.servers]
    document["paths"] = paths
    if hooks:
        document["webhooks"] = hooks
    components = _components(app, builder, definitions)
    if components:
        document["components"] = components
    if docs.openapi_tags:
        document["tags"] = [dict(t) for t in docs.openapi_tags]
    return document
