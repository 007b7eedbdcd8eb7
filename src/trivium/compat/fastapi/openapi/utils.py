"""`fastapi.openapi.utils`: build an OpenAPI document from routes, as FastAPI does."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

__all__ = [
    "get_openapi",
]


def get_openapi(  # noqa: PLR0913 - FastAPI's signature
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[Any],
    webhooks: Sequence[Any] | None = None,
    tags: Sequence[Mapping[str, Any]] | None = None,
    servers: Sequence[Mapping[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
) -> dict[str, Any]:
    """Return the OpenAPI document of `routes` (typically `app.routes`) with this `info`.

    The document is the one a compat `FastAPI` app serves at `/openapi.json`: FastAPI's
    responses only (no 400/413/415 or dependencies' 401) and no `"default": null`.
    The routes are copied, so the serving app is untouched.
    """
    from trivium.compat.fastapi.applications import FastAPI
    from trivium.openapi._functions import routes_document

    app = FastAPI(
        title=title,
        version=version,
        description=description or "",
        summary=summary,
        contact=contact,
        license_info=license_info,
        terms_of_service=terms_of_service,
        openapi_url=None,
        servers=servers,
        openapi_tags=tags,
        separate_input_output_schemas=separate_input_output_schemas,
    )
    return routes_document(app, routes, webhooks, openapi_version)
