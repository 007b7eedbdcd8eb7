"""The app's option groups: `DocsConfig` and `HTTPConfig`, with `Limits` for the body.

`App` keeps the keyword names FastAPI users know (`title=`, `docs_url=`, `root_path=`),
and each keyword is one field of one frozen group, so every option has one home: the
keyword fills the field, `App(docs=DocsConfig(...))` gives the whole group at once, and
the app's attributes (`app.title`, `app.root_path`) read the group and replace it when
assigned. Giving one option both ways with two values is refused at construction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Generic
from typing import TypeVar
from typing import overload

from trivium.errors import ConfigurationError
from trivium.http._limits import Limits
from trivium.http._limits import with_form_limits

__all__ = [
    "DocsConfig",
    "HTTPConfig",
    "OptionAttributes",
    "Setting",
    "from_keywords",
    "merge",
    "with_limit_spellings",
]

T = TypeVar("T")
C = TypeVar("C", "DocsConfig", "HTTPConfig")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DocsConfig:
    """What the API documentation says and where it is served (`App(docs=...)`).

    Args:
        title: the API title (OpenAPI `info.title`).
        version: the API version (OpenAPI `info.version`).
        description: the API description (OpenAPI `info.description`).
        summary: the API summary (OpenAPI `info.summary`).
        contact: the OpenAPI `info.contact` object (`name`, `url`, `email`).
        license_info: the OpenAPI `info.license` object (`name`, `identifier` or `url`).
        terms_of_service: the OpenAPI `info.termsOfService` URL.
        openapi_url: where the OpenAPI document is served (`None` disables it and the
            docs pages).
        docs_url: where Swagger UI is served (`None` disables it).
        redoc_url: where ReDoc is served (`None` disables it).
        servers: the OpenAPI `servers` list.
        openapi_tags: OpenAPI tag descriptions, in display order.
        swagger_ui_parameters: options passed to `SwaggerUIBundle(...)` on the docs page.
        separate_input_output_schemas: document a model whose input and output schemas
            differ as two schemas (`Item-Input`, `Item-Output`); `False` documents one.
    """

    title: str = "Trivium"
    version: str = "0.1.0"
    description: str = ""
    summary: str | None = None
    contact: Mapping[str, Any] | None = None
    license_info: Mapping[str, Any] | None = None
    terms_of_service: str | None = None
    openapi_url: str | None = "/openapi.json"
    docs_url: str | None = "/docs"
    redoc_url: str | None = "/redoc"
    servers: Sequence[Mapping[str, Any]] = ()
    openapi_tags: Sequence[Mapping[str, Any]] = ()
    swagger_ui_parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    separate_input_output_schemas: bool = True

    def __post_init__(self) -> None:
        # Copies, so that a list the caller keeps editing cannot change the app.
        object.__setattr__(self, "servers", tuple(dict(s) for s in self.servers or ()))
        object.__setattr__(self, "openapi_tags", tuple(dict(t) for t in self.openapi_tags or ()))
        object.__setattr__(self, "swagger_ui_parameters", dict(self.swagger_ui_parameters or {}))

    @property
    def info(self) -> dict[str, Any]:
        """The OpenAPI `info` fields beyond title, version and description that are set."""
        fields = {
            "summary": self.summary,
            "contact": self.contact,
            "license": self.license_info,
            "termsOfService": self.terms_of_service,
        }
        return {
            k: dict(v) if isinstance(v, Mapping) else v for k, v in fields.items() if v is not None
        }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HTTPConfig:
    """How the app answers requests (`App(http=...)`).

    The last four fields are the behaviours `trivium.compat` switches to FastAPI's and
    Starlette's; trivium's own defaults are the stricter ones.

    Args:
        root_path: the path prefix a proxy strips before the app sees the request; set
            on every request's scope (`request.scope["root_path"]`) and listed as the
            first OpenAPI server (a trailing `/` is dropped).
        redirect_slashes: redirect `/path/` to `/path` (and back) when only the other
            form exists.
        slash_redirect_status: the status of those redirects (`308`; FastAPI's `307`).
        slash_redirect_absolute: whether their `Location` is an absolute URL.
        strict_content_type: refuse a JSON body sent without a `Content-Type` header
            (415); `False` parses it as JSON, as older FastAPI versions did, and reads
            a body of another type sent to a form endpoint as an empty form (422 for
            the missing fields, as FastAPI).
        security_headers: headers added to every response that doesn't set them itself:
            `True` for `DEFAULT_SECURITY_HEADERS` (nosniff, frame denial, referrer and
            opener policies), a mapping for your own set, `False` for none. HSTS and CSP
            need a decision about your site: see `SecurityHeadersMiddleware`.
        limits: the default request limits (body, uploads, JSON depth, forms, timeout).
        thread_pool_size: how many sync handlers and dependencies may run at once.
        json_errors_as_validation: answer malformed JSON with a 422 validation error
            (FastAPI's choice) instead of 400.
        strict_path_params: refuse at start-up a route whose path parameter no handler
            parameter takes (FastAPI would read a misnamed one from the query string).
        plain_server_errors: answer unexpected errors `Internal Server Error` in plain
            text (Starlette's body).
        websocket_disconnect_escapes: let a `WebSocketDisconnect` a handler does not
            catch leave the app (Starlette's way).
    """

    root_path: str = ""
    redirect_slashes: bool = True
    slash_redirect_status: int = 308
    slash_redirect_absolute: bool = False
    strict_content_type: bool = True
    security_headers: bool | Mapping[str, str] = True
    limits: Limits = dataclasses.field(default_factory=Limits)
    thread_pool_size: int = 40
    json_errors_as_validation: bool = False
    strict_path_params: bool = True
    plain_server_errors: bool = False
    websocket_disconnect_escapes: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "root_path", self.root_path.rstrip("/"))
        if isinstance(self.security_headers, Mapping):
            object.__setattr__(self, "security_headers", dict(self.security_headers))


_DEFAULTS: dict[type[Any], Any] = {DocsConfig: DocsConfig(), HTTPConfig: HTTPConfig()}
_DEFAULT_BODY = Limits().max_body_size
_CODES = {DocsConfig: ("docs", "app-docs-config"), HTTPConfig: ("http", "app-http-config")}


def from_keywords(cls: type[C], keywords: Mapping[str, Any]) -> C:
    """Build group `cls` from the `App` keywords named after its fields (others keep defaults)."""
    names = [field.name for field in dataclasses.fields(cls)]
    return cls(**{name: keywords[name] for name in names if name in keywords})


def merge(given: C | None, keywords: C) -> C:
    """Return group `given` with the fields that `keywords` changes from the defaults.

    `keywords` is the group built from `App`'s keyword arguments; it is the answer when
    no group was given.

    Raises:
        ConfigurationError: a field is set both ways, to two values
            (`app-docs-config`, `app-http-config`).
    """
    if given is None:
        return keywords
    defaults = _DEFAULTS[type(keywords)]
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(keywords):
        name = field.name
        value, default = getattr(keywords, name), getattr(defaults, name)
        if value == default:
            continue
        current = getattr(given, name)
        if current not in (default, value):
            argument, code = _CODES[type(keywords)]
            cls = type(keywords).__name__
            raise ConfigurationError(
                f"App got {name}={value!r} and {argument}={cls}({name}={current!r}); set "
                f"{name} once, as a keyword or in {cls}",
                code,
            )
        changes[name] = value
    return dataclasses.replace(given, **changes) if changes else given


class Setting(Generic[T]):
    """An app attribute that is one field of a config group (`app.title`, `app.root_path`).

    Reading gives the field; assigning replaces the group with a copy holding the new
    value, so the group stays the one source of truth.
    """

    __slots__ = ("group", "name")

    def __init__(self, group: str) -> None:
        self.group = group
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Setting[T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Setting[T] | T:
        if obj is None:
            return self
        return getattr(getattr(obj, self.group), self.name)  # type: ignore[no-any-return]

    def __set__(self, obj: object, value: T) -> None:
        config = getattr(obj, self.group)
        setattr(obj, self.group, dataclasses.replace(config, **{self.name: value}))


def with_limit_spellings(
    config: HTTPConfig, max_body_size: int | None, form_limits: Mapping[str, int] | None
) -> HTTPConfig:
    """Return `config` with FastAPI's spellings of the limits applied to its `Limits`.

    `App(max_body_size=...)` is the body limit; `form_limits={...}` the form limits
    (`http._limits.with_form_limits`).

    Raises:
        ConfigurationError: the limits already name another body limit (`app-body-limit`),
            or a form limit is not an integer >= 0 (`limits-invalid`).
        TypeError: `form_limits` has a key FastAPI's does not.
    """
    limits = config.limits
    if max_body_size not in (_DEFAULT_BODY, limits.max_body_size):
        if limits.max_body_size != _DEFAULT_BODY:
            raise ConfigurationError(
                f"App got max_body_size={max_body_size!r} and limits=Limits("
                f"max_body_size={limits.max_body_size!r}); set the body limit once, in Limits",
                "app-body-limit",
            )
        limits = dataclasses.replace(limits, max_body_size=max_body_size)
    limits = with_form_limits(limits, form_limits)
    return config if limits is config.limits else dataclasses.replace(config, limits=limits)


class OptionAttributes:
    """The app's options as attributes: each reads one field of its group.

    `app.title` is `app.docs_config.title`; `app.title = "Shop"` (before start-up) makes
    `app.docs_config` a copy with the new title. FastAPI code reads and sets these names.
    """

    docs_config: DocsConfig
    http_config: HTTPConfig

    title = Setting[str]("docs_config")
    version = Setting[str]("docs_config")
    description = Setting[str]("docs_config")
    summary = Setting[str | None]("docs_config")
    contact = Setting[Mapping[str, Any] | None]("docs_config")
    license_info = Setting[Mapping[str, Any] | None]("docs_config")
    terms_of_service = Setting[str | None]("docs_config")
    openapi_url = Setting[str | None]("docs_config")
    docs_url = Setting[str | None]("docs_config")
    redoc_url = Setting[str | None]("docs_config")
    servers = Setting[Sequence[Mapping[str, Any]]]("docs_config")
    openapi_tags = Setting[Sequence[Mapping[str, Any]]]("docs_config")
    swagger_ui_parameters = Setting[Mapping[str, Any]]("docs_config")
    separate_input_output_schemas = Setting[bool]("docs_config")
    root_path = Setting[str]("http_config")
    redirect_slashes = Setting[bool]("http_config")
    strict_content_type = Setting[bool]("http_config")
    security_headers = Setting[bool | Mapping[str, str]]("http_config")
    limits = Setting[Limits]("http_config")
    thread_pool_size = Setting[int]("http_config")
    json_errors_as_validation = Setting[bool]("http_config")
    strict_path_params = Setting[bool]("http_config")
    plain_server_errors = Setting[bool]("http_config")
    websocket_disconnect_escapes = Setting[bool]("http_config")
