"""The per-handler extraction plan: read raw values, validate them once, fill defaults.

A `Plan` is compiled at start-up from an `Analysis`. Per request it gathers only the
declared parameters from the request (query, headers, cookies, path, body or form),
validates all of them in one call of one pydantic validator, and returns a dict keyed by
section (`path`, `query`, `header`, `cookie`, `body`). A failure of any field raises one
`RequestValidationError` listing every failing field with its `loc`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from typing import Protocol

import orjson
from pydantic import TypeAdapter
from pydantic import ValidationError

from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.http._limits import Limits
from trivium.http._limits import check_content_encoding
from trivium.http._limits import check_json_depth
from trivium.http._limits import loads_long_integers
from trivium.http._request import HTTPConnection
from trivium.http._request import Request
from trivium.params._analysis import Analysis
from trivium.params._analysis import FieldSpec
from trivium.params._duplicates import secret_wire_names
from trivium.params._duplicates import strip_secret_inputs
from trivium.params._json_body import exact_body
from trivium.params._json_body import json_error
from trivium.params._markers import ParamSource
from trivium.params._markers import takes_raw_body
from trivium.params._models import ModelParam
from trivium.params._secret import redact_secret_inputs
from trivium.params._validator import compile_adapter
from trivium.params._validator import core_validate
from trivium.params._validator import field_type
from trivium.params._validator import params_type

__all__ = ["Plan", "validation_errors"]

_MUTABLE = (list, dict, set, bytearray)


class BodySource(Protocol):
    """What reading a JSON body needs: a `Request`, or the RSGI direct path's view."""

    @property
    def limits(self) -> Limits: ...

    def header_value(self, name: str) -> str | None: ...

    async def body(self) -> bytes: ...


class Plan:
    """Compiled request extraction and validation for one handler."""

    __slots__ = (
        "body_field",
        "body_mode",
        "body_names",
        "body_required",
        "body_shadows",
        "cookie",
        "defaults",
        "field_adapters",
        "fields",
        "form_fields",
        "header",
        "json_errors_as_validation",
        "models",
        "params_type",
        "path",
        "query",
        "secret_names",
        "strict_content_type",
        "validate",
        "validator",
    )

    def __init__(
        self,
        analysis: Analysis,
        name: str,
        *,
        strict_content_type: bool = True,
        json_errors_as_validation: bool = False,
        label: str | None = None,
    ) -> None:
        label = label or name  # the handler as errors name it (`name` is an identifier)
        self.strict_content_type = strict_content_type
        """Refuse (415) a JSON body sent without `Content-Type`; else parse it (FastAPI)."""
        self.json_errors_as_validation = json_errors_as_validation
        """Answer malformed JSON with a 422 validation error (FastAPI) instead of a 400."""
        every = [*analysis.fields, *analysis.shadows]
        self.models = [
            ModelParam(f, echo_inputs=json_errors_as_validation) for f in every if f.is_model
        ]
        """Parameter models, each validated on its own against its whole source."""
        fields = [f for f in every if not f.is_model]
        self.fields = fields
        """The parameters validated together (all but the parameter models)."""
        self.field_adapters: dict[int, TypeAdapter[Any]] = {}
        """One validator per parameter, made on the first failed request that needs it."""
        self.path = _simple(fields, ParamSource.PATH)
        self.query = _collector(fields, ParamSource.QUERY)
        self.header = _collector(fields, ParamSource.HEADER)
        self.cookie = _collector(fields, ParamSource.COOKIE)
        body = [f for f in fields if f.section == "body"]
        # A shadow (see `_duplicates`) reads the value its first declaration reads.
        self.form_fields = [f for f in body if f.source is not ParamSource.BODY and f.key == f.name]
        json_fields = [f for f in body if f.source is ParamSource.BODY]
        form_models = any(m.section == "body" for m in self.models)
        if (self.form_fields or form_models) and json_fields:
            form_names = [f.name for f in self.form_fields] or ["a form model"]
            raise _config_error(
                label,
                f"takes JSON body parameters ({', '.join(f.name for f in json_fields)}) and "
                f"form or file parameters ({', '.join(form_names)}), but a request has one "
                "body: mark them all Form()/File() (a JSON part can be a Form() string you "
                "parse), or split the route in two",
            )
        self.body_field: FieldSpec | None = None
        self.body_mode = ""
        if self.form_fields or form_models:
            self.body_mode = "form"
        elif (
            json_fields
            and not getattr(json_fields[0].marker, "embed", False)
            and all(f.key != f.name for f in json_fields[1:])
        ):  # one body name (declared once, or again differently: see `_duplicates`)
            self.body_mode = "json"
            self.body_field = json_fields[0]
        elif json_fields:
            self.body_mode = "json-embed"
        self.body_required = any(f.required for f in body) or form_models
        self.body_shadows = tuple(
            (f"\0{f.key}", f.key) for f in json_fields[1:] if self.body_field is not None
        )
        """Other declarations of the one body: (their key in the validated data, in "body")."""
        names: dict[str, bool] = {}
        for f in body:  # a name declared twice is required if either declaration is
            names[f.name] = names.get(f.name, False) or f.required
        self.body_names = list(names.items())
        self.defaults = [
            (
                f.section,
                f.key,
                f.default,
                f.marker.default_factory,
                isinstance(f.default, _MUTABLE),
            )
            for f in fields
            if not f.required
        ]
        self.params_type: Any = None
        """The TypedDict validated (its keys are the sections: path, query, body...)."""
        self.validator: TypeAdapter[Any] | None = None
        if fields:
            self.params_type = params_type(
                fields,
                name,
                single_body=self.body_field is not None,
                body_required=self.body_required,
            )
            self.validator = compile_adapter(self.params_type, fields, name)
        self.validate = core_validate(self.validator) if self.validator is not None else None
        self.secret_names = secret_wire_names(fields) if analysis.shadows else frozenset()
        """Parameters declared twice that a 422 must not echo (see `_duplicates`)."""

    async def extract(self, conn: HTTPConnection) -> dict[str, Any]:
        """Read, validate and complete the parameters of one request.

        Raises:
            RequestValidationError: one or more parameters are invalid (422).
            HTTPException: the body is malformed (400), too large (413) or of an
                unsupported content type (415).
        """
        if self.validator is None and not self.models:
            return {}
        raw = self._raw(conn)
        body: Any = None
        form: Any = None
        if self.body_mode == "form":
            form, body = await self._read_form(conn, raw)  # type: ignore[arg-type]
        elif self.body_mode:
            # A Request, or the RSGI direct path's view of one (JSON bodies only).
            body = await self._read_body(conn, raw)  # type: ignore[arg-type]
        errors: list[dict[str, Any]] = []
        values: dict[str, Any] = {}
        if self.validate is not None:
            try:
                if self.body_mode == "form":
                    # Form models (trivium.forms.BoundForm) read the request from the context.
                    values = self.validate(raw, context={"request": conn})  # type: ignore[call-arg]
                elif self.json_errors_as_validation:
                    # As FastAPI: objects with attributes validate as models, and text
                    # sent instead of a JSON object is "not an object to extract fields from".
                    values = self.validate(raw, from_attributes=True)  # type: ignore[call-arg]
                else:
                    values = self.validate(raw)
            except ValidationError as exc:
                values, errors = await self._failed(exc, conn, raw, body)
        if self.models:
            self._validate_models(conn, form, values, errors)
        if errors:
            errors.sort(key=lambda e: _SECTION_ORDER.get(e["loc"][0], 9))
            raise RequestValidationError(errors, body)
        if self.body_field is not None:
            # Handlers see the single body under its parameter name, like embedded ones.
            values["body"] = {self.body_field.key: values["body"]} if "body" in values else {}
            if self.body_shadows:
                self._move_body_shadows(values)
        self._fill_defaults(values)
        return values

    async def _failed(
        self, exc: ValidationError, conn: HTTPConnection, raw: dict[str, Any], body: Any
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Return the errors of `exc`, unless the body read exactly (big integers) is valid."""
        errors = self._errors(exc)
        if body is not None and (exact := await exact_body(conn, errors)) is not None:
            return self._again(raw, exact)
        return {}, errors

    def _move_body_shadows(self, values: dict[str, Any]) -> None:
        """Put the other declarations of the one body beside it (see `_duplicates`)."""
        for top, key in self.body_shadows:
            if top in values:
                values["body"][key] = values.pop(top)

    def valid_values(
        self, conn: HTTPConnection, error: RequestValidationError
    ) -> tuple[dict[str, Any], set[tuple[str, str | None]]]:
        """Return the values of the parameters `error` does not name, and the keys it does.

        For the failure path only: the dependencies that need none of the invalid
        parameters still run before the 422 is answered, as in FastAPI, so that their
        own answer (an authentication dependency's 401) comes first. A key `(section,
        None)` means the whole section is unusable.
        """
        raw = self._raw(conn)
        if error.body is not None and not isinstance(error.body, bytes | bytearray):
            raw["body"] = error.body
        invalid: set[tuple[str, str | None]] = set()
        for item in error.errors():
            loc = item["loc"]
            whole = len(loc) < 2 or (loc[0] == "body" and self.body_field is not None)
            invalid.add((loc[0], None if whole else str(loc[1])))
        values: dict[str, Any] = {}
        context = {"request": conn} if self.body_mode == "form" else None
        for spec in self.fields:
            key = (spec.section, spec.name)
            source = raw.get(spec.section)
            if key in invalid or (spec.section, None) in invalid:
                invalid.add((spec.section, spec.key))  # a shadow (see `_duplicates`)
                continue
            if spec is self.body_field or (self.body_field and spec.section == "body"):
                value = source
            elif isinstance(source, dict) and spec.name in source:
                value = source[spec.name]
            else:
                continue  # not sent: its default, filled below
            adapter = self.field_adapters.get(id(spec))
            if adapter is None:
                adapter = self.field_adapters[id(spec)] = TypeAdapter(field_type(spec))
            try:
                values.setdefault(spec.section, {})[spec.key] = adapter.validate_python(
                    value, context=context
                )
            except ValidationError:
                invalid.update((key, (spec.section, spec.key)))
        self._valid_models(conn, values, invalid)
        self._fill_defaults(values)
        for section, name in invalid:
            if name is not None:
                values.get(section, {}).pop(name, None)
        return values, invalid

    def _valid_models(
        self, conn: HTTPConnection, values: dict[str, Any], invalid: set[tuple[str, str | None]]
    ) -> None:
        """`valid_values` for the parameter models: each validated on its own."""
        for model in self.models:
            errors: list[Any] = []
            if model.section == "body":  # a form model: the form was not kept
                invalid.add((model.section, model.key))
                continue
            section = model.section
            source: Any = (
                conn.query_params
                if section == "query"
                else conn.headers
                if section == "header"
                else conn.cookies
            )
            value = model.validate(source, errors, None)
            if errors:
                invalid.add((model.section, model.key))
            else:
                values.setdefault(model.section, {})[model.key] = value

    def _raw(self, conn: HTTPConnection) -> dict[str, Any]:
        """Gather the declared parameters' raw values (the body is read separately)."""
        raw: dict[str, Any] = {}
        if self.path:
            params = conn.path_params
            raw["path"] = {k: params[k] for k in self.path if k in params}
        if self.query is not None:
            raw["query"] = self.query(conn.query_params)
        if self.header is not None:
            raw["header"] = self.header(conn.headers)
        if self.cookie is not None:
            raw["cookie"] = self.cookie(conn.cookies)
        return raw

    def _errors(self, exc: ValidationError) -> list[dict[str, Any]]:
        errors = self._body_errors(validation_errors(exc))
        for error in errors:
            # A missing parameter has no input of its own (FastAPI reports null too);
            # only fields missing inside a whole JSON body keep that body as input.
            loc = error["loc"]
            if (
                error["type"] == "missing"
                and len(loc) == 2
                and (loc[0] != "body" or self.body_field is None)
            ):
                error["input"] = None
        # A secret field (a password) is never echoed back.
        if self.secret_names:
            strip_secret_inputs(errors, self.secret_names)
        return redact_secret_inputs(errors, self.params_type)

    def _body_errors(self, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Report a missing (or non-object) embedded body as its missing fields, as FastAPI.

        `{"loc": ["body"]}` would otherwise carry the whole raw input as `input`.
        """
        out: list[dict[str, Any]] = []
        for error in errors:
            if tuple(error["loc"]) != ("body",):
                out.append(error)
            elif self.body_field is not None or not self.body_names:
                if error["type"] == "missing":
                    error["input"] = None
                out.append(error)
            else:
                # No body: each required field is missing; a body that is not an object
                # (`[]`, `null`) has none of them.
                every = error["type"] != "missing"
                out.extend(
                    {
                        "type": "missing",
                        "loc": ("body", name),
                        "msg": "Field required",
                        "input": None,
                    }
                    for name, required in self.body_names
                    if required or every
                )
        return out

    def _validate_models(
        self, conn: HTTPConnection, form: Any, values: dict[str, Any], errors: list[Any]
    ) -> None:
        for model in self.models:
            section = model.section
            source: Any
            if section == "query":
                source = conn.query_params
            elif section == "header":
                source = conn.headers
            elif section == "cookie":
                source = conn.cookies
            else:
                source = form
            value = model.validate(source, errors, {"request": conn} if model.form else None)
            if not errors:
                values.setdefault(section, {})[model.key] = value

    def defaults_only(self) -> dict[str, Any]:
        """Return the values of a request that sent nothing (every parameter at its default).

        Raises:
            ConfigurationError: a parameter has no default (`resolve-needs-request`).
        """
        from trivium.errors import ConfigurationError

        required = [f.name for f in self.fields if f.required]  # a shadow's, say
        if required:
            raise ConfigurationError(
                f"{', '.join(required)} needs a request; it cannot be resolved outside one",
                "resolve-needs-request",
            )
        values: dict[str, Any] = {}
        self._fill_defaults(values)
        return values

    def _again(
        self, raw: dict[str, Any], exact: Any
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Validate again with the body read exactly (integers beyond 64 bits)."""
        raw["body"] = exact
        try:
            return self.validate(raw), []  # type: ignore[misc]
        except ValidationError as exc:
            return {}, self._errors(exc)

    def _fill_defaults(self, values: dict[str, Any]) -> None:
        """Give every optional parameter the client left out its default (copied if mutable)."""
        for section, name, default, factory, mutable in self.defaults:
            target = values.setdefault(section, {})
            if target is None or name in target:
                continue
            target[name] = (
                factory() if factory is not None else copy.copy(default) if mutable else default
            )

    async def _read_body(self, request: BodySource, raw: dict[str, Any]) -> Any:
        if self.body_mode == "form":
            assert isinstance(request, Request)
            return await self._read_form(request, raw)
        body = await request.body()
        if not body:
            return None
        content_type = request.header_value("content-type")
        lenient = content_type is None and not self.strict_content_type
        if not lenient and (content_type is None or not _is_json(content_type)):
            field = self.body_field
            if field is not None and content_type and takes_raw_body(field.marker, content_type):
                raw["body"] = body  # Body(media_type=...) names this type: the raw bytes
                return body
            if self.json_errors_as_validation:
                # FastAPI validates a body it does not read as JSON as the raw text,
                # which fails as "not an object" (422) rather than 415.
                raw["body"] = body.decode("utf-8", "replace")
                return body
            declared = getattr(field.marker, "media_type", None) if field is not None else None
            also = f" or {declared!r}" if declared and "json" not in declared else ""
            raise HTTPException(
                415,
                f"Unsupported media type {content_type or '(none)'!r}: "
                f"this endpoint expects 'application/json'{also}",
            )
        depth = request.limits.max_json_depth
        if depth is not None:
            check_json_depth(body, depth)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            try:
                data = loads_long_integers(body)
            except ValueError:
                check_content_encoding(request.header_value("content-encoding"))
                if self.json_errors_as_validation:
                    raise json_error(exc, body) from None
                raise HTTPException(400, f"Malformed JSON body: {exc}") from None
        raw["body"] = data
        return data

    async def _read_form(self, request: Request, raw: dict[str, Any]) -> tuple[Any, Any]:
        """Read the form into `raw["body"]`; return the form (`None` if absent) and its data."""
        content_type = request.headers.get("content-type") or ""
        if self.json_errors_as_validation and not _is_form(content_type):
            # FastAPI reads a body of another type as an empty form (then 422 for the
            # missing fields); trivium's own apps answer 415.
            raw["body"] = {}
            return None, None
        if not content_type:
            body = await request.body()
            if body:
                raise HTTPException(
                    415,
                    "Missing Content-Type: this endpoint expects "
                    "'application/x-www-form-urlencoded' or 'multipart/form-data'",
                )
            raw["body"] = {}
            return None, None
        form = await request.form()
        data: dict[str, Any] = {}
        for spec in self.form_fields:
            if spec.is_sequence:
                items = form.getlist(spec.name)
                if items:
                    data[spec.name] = [await _file_value(spec, v) for v in items]
                continue
            value = form.get(spec.name)
            if value is None or value == "":  # an empty input is a missing value, as FastAPI
                continue
            data[spec.name] = await _file_value(spec, value)
        raw["body"] = data
        return form, data


_BYTES = (bytes, bytes | None, list[bytes], list[bytes] | None)


async def _file_value(spec: FieldSpec, value: Any) -> Any:
    """Read an upload into bytes for a `bytes` (or `list[bytes]`) file parameter."""
    if spec.source is ParamSource.FILE and spec.annotation in _BYTES:
        read = getattr(value, "read", None)
        if read is not None:
            return await read()
    return value


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _simple(fields: list[FieldSpec], source: ParamSource) -> list[str]:
    return list(dict.fromkeys(f.name for f in fields if f.source is source))


Collector = Callable[[Any], dict[str, Any]]


def _collector(fields: list[FieldSpec], source: ParamSource) -> Collector | None:
    specs = [f for f in fields if f.source is source]
    if not specs:
        return None
    scalars = tuple(dict.fromkeys(f.name for f in specs if not f.is_sequence))
    lists = tuple(dict.fromkeys(f.name for f in specs if f.is_sequence))
    if not lists:

        def collect_scalars(mapping: Any) -> dict[str, Any]:
            get = mapping.get
            return {k: v for k in scalars if (v := get(k)) is not None}

        return collect_scalars

    def collect(mapping: Any) -> dict[str, Any]:
        out = {k: v for k in scalars if (v := mapping.get(k)) is not None}
        getlist = getattr(mapping, "getlist", None)
        for k in lists:
            if getlist is not None:
                values = getlist(k)
                if values:
                    out[k] = values
            elif k in mapping:
                out[k] = [mapping[k]]
        return out

    return collect


def _is_form(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media in ("application/x-www-form-urlencoded", "multipart/form-data")


_SECTION_ORDER = {"path": 0, "query": 1, "header": 2, "cookie": 3, "body": 4}


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Return pydantic's errors as JSON-safe dicts (`type`, `loc`, `msg`, `input`, `ctx`)."""
    errors = []
    for error in exc.errors(include_url=False):
        item: dict[str, Any] = dict(error)
        ctx = item.get("ctx")
        if ctx:
            item["ctx"] = {
                k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in ctx.items()
            }
        errors.append(item)
    return errors


def _config_error(name: str, problem: str) -> Exception:
    from trivium.errors import ConfigurationError

    return ConfigurationError(f"handler {name} {problem}", "body-mix")
