"""Parameter markers: where a handler argument comes from and how it is constrained.

`Query`, `Path`, `Header`, `Cookie`, `Body`, `Form` and `File` are used either as a default
(`q: str = Query(min_length=3)`) or inside `Annotated[str, Query(min_length=3)]`. They only
describe the parameter; the extraction plan built at start-up turns them into pydantic
fields of one validator per handler.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

__all__ = [
    "UNSET",
    "Body",
    "Cookie",
    "File",
    "Form",
    "Header",
    "Param",
    "ParamSource",
    "Path",
    "Query",
    "takes_raw_body",
]

_CONSTRAINTS = (
    "gt",
    "ge",
    "lt",
    "le",
    "multiple_of",
    "min_length",
    "max_length",
    "pattern",
    "strict",
    "allow_inf_nan",
    "max_digits",
    "decimal_places",
    "discriminator",
    "json_schema_extra",
)

_UNSUPPORTED = {
    "validation_alias": "use alias=... (the name read from the request)",
    "serialization_alias": "a parameter is only read, never dumped; use alias=...",
    "alias_priority": "use alias=...",
    "annotation": "annotate the handler parameter instead",
}


class _Unset:
    """The "no default" marker: the parameter is required."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()
"""The default of a parameter the client must send."""


class ParamSource(enum.StrEnum):
    """Where in the request a parameter is read from."""

    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    COOKIE = "cookie"
    BODY = "body"
    FORM = "form"
    FILE = "file"


class Param:
    """Describe one request parameter: its source, default, alias, constraints and docs."""

    __slots__ = (
        "alias",
        "constraints",
        "default",
        "default_factory",
        "deprecated",
        "description",
        "example",
        "examples",
        "include_in_schema",
        "openapi_examples",
        "title",
    )

    source: ParamSource = ParamSource.QUERY

    def __init__(  # noqa: PLR0913 - the parameter vocabulary FastAPI users know
        self,
        default: Any = UNSET,
        *,
        default_factory: Callable[[], Any] | None = None,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        examples: list[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        openapi_examples: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        if default is ...:
            default = UNSET
        constraints = {k: extra.pop(k) for k in _CONSTRAINTS if k in extra}
        if "regex" in extra:
            constraints["pattern"] = extra.pop("regex")
        if "example" in extra:  # FastAPI's older single example: documented beside the schema
            self.example = extra.pop("example")
        if extra:
            _refuse(type(self).__name__, extra)
        self.default = default
        self.default_factory = default_factory
        self.alias = alias
        self.title = title
        self.description = description
        self.examples = examples
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.openapi_examples = openapi_examples
        """Named OpenAPI Example objects (`{"name": {"summary", "value"}}`), for the docs only."""
        self.constraints: dict[str, Any] = constraints

    @property
    def required(self) -> bool:
        """Whether the parameter has no default."""
        return self.default is UNSET and self.default_factory is None

    def field_info(self, default: Any = UNSET) -> FieldInfo:
        """Return the pydantic field for this parameter's value (constraints and docs)."""
        from pydantic import Field
        from pydantic_core import PydanticUndefined

        if default is UNSET:
            default = self.default
        if default is UNSET:
            default = PydanticUndefined
        kwargs: dict[str, Any] = dict(self.constraints)
        if self.default_factory is not None:
            kwargs["default_factory"] = self.default_factory
        else:
            kwargs["default"] = default
        field: FieldInfo = Field(
            title=self.title,
            description=self.description,
            examples=self.examples,
            deprecated=self.deprecated,
            **kwargs,
        )
        return field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({'' if self.required else repr(self.default)})"


def takes_raw_body(marker: Param, content_type: str) -> bool:
    """Return whether a body of `content_type` goes to `marker`'s parameter as it is.

    True when the marker is a `Body(media_type=...)` naming that media type (`type/*`
    and `*/*` match by wildcard): the body is validated as raw bytes, so a `bytes`
    parameter gets it whole, a `str` one as text, as in FastAPI. The default media type,
    JSON, never matches here: a JSON body is parsed.
    """
    declared = getattr(marker, "media_type", None)
    if declared is None or not isinstance(marker, Body) or isinstance(marker, Form):
        return False
    declared = declared.partition(";")[0].strip().lower()
    sent = content_type.partition(";")[0].strip().lower()
    if declared in ("application/json", "") or not sent:
        return False
    if declared == "*/*" or declared == sent:
        return True
    return declared.endswith("/*") and sent.startswith(declared[:-1])


def _refuse(marker: str, extra: dict[str, Any]) -> None:
    """Raise for the first option nobody handles: a typo must never pass silently."""
    import difflib

    from trivium.errors import ConfigurationError

    key = next(iter(extra))
    if key in _UNSUPPORTED:
        raise ConfigurationError(
            f"{marker}() option {key!r} is not supported: {_UNSUPPORTED[key]}",
            "unsupported-option",
        )
    known = [*_CONSTRAINTS, "regex", "example", "default_factory", "alias", "title"]
    known += ["description", "examples", "deprecated", "include_in_schema", "openapi_examples"]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise TypeError(f"{marker}() got an unexpected keyword argument {key!r}{hint}")


class Path(Param):
    """A path parameter (`/items/{item_id}`); always required."""

    __slots__ = ()
    source = ParamSource.PATH


class Query(Param):
    """A query string parameter; `list[...]` types collect repeated keys."""

    __slots__ = ()
    source = ParamSource.QUERY


class Header(Param):
    """A request header; `user_agent` reads `user-agent` unless `convert_underscores=False`."""

    __slots__ = ("convert_underscores",)
    source = ParamSource.HEADER

    def __init__(
        self,
        default: Any = UNSET,
        *,
        convert_underscores: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(default, **kwargs)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    """A request cookie."""

    __slots__ = ()
    source = ParamSource.COOKIE


class Body(Param):
    """A JSON body, or one field of it with `embed=True` (or when several bodies are declared)."""

    __slots__ = ("embed", "media_type")
    source = ParamSource.BODY

    def __init__(
        self,
        default: Any = UNSET,
        *,
        embed: bool | None = None,
        media_type: str = "application/json",
        **kwargs: Any,
    ) -> None:
        super().__init__(default, **kwargs)
        self.embed = embed
        self.media_type = media_type


class Form(Body):
    """A field of an urlencoded or multipart form."""

    __slots__ = ()
    source = ParamSource.FORM

    def __init__(
        self,
        default: Any = UNSET,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **kwargs: Any,
    ) -> None:
        super().__init__(default, media_type=media_type, **kwargs)


class File(Form):
    """An uploaded file of a multipart form (`UploadFile`, or `bytes` for the content)."""

    __slots__ = ()
    source = ParamSource.FILE

    def __init__(
        self,
        default: Any = UNSET,
        *,
        media_type: str = "multipart/form-data",
        **kwargs: Any,
    ) -> None:
        super().__init__(default, media_type=media_type, **kwargs)
