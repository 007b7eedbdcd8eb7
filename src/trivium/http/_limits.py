"""Request limits: body size, upload size, JSON nesting, form contents and time.

Every limit has a safe default and can be set per app (`App(limits=...)`), per router
(`Router(limits=...)`) and per route (`@app.post(..., limits=...)`); the most specific
wins. They are resolved once per route at start-up.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any
from typing import NoReturn

from trivium.errors import ConfigurationError
from trivium.errors import HTTPException

__all__ = [
    "FormLimits",
    "Limits",
    "check_json_depth",
    "loads_long_integers",
    "with_form_limits",
]

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FormLimits:
    """Limits applied while parsing a form; sizes are in bytes.

    The body as a whole is limited by the request (`Request.max_body_size`), not here.
    """

    max_fields: int = 1000
    """Most non-file fields (multipart text parts or urlencoded pairs); more gives 400."""
    max_files: int = 100
    """Most file parts in one multipart form; more gives 400."""
    max_field_size: int = 1024 * 1024
    """Largest non-file field value or field name (after percent-decoding); larger gives 413."""
    max_file_size: int | None = 100 * 1024 * 1024
    """Largest single uploaded file, `None` for no limit; larger gives 413."""
    max_part_header_size: int = 16 * 1024
    """Largest total size of one multipart part's headers; larger gives 413."""
    spool_max_size: int = 1024 * 1024
    """Bytes of each uploaded file kept in memory before it moves to a temporary file."""

    def __post_init__(self) -> None:
        for name in ("max_fields", "max_files", "max_field_size", "spool_max_size"):
            _check_limit(name, getattr(self, name), minimum=0)
        if self.max_file_size is not None:
            _check_limit("max_file_size", self.max_file_size, minimum=0)
        _check_limit("max_part_header_size", self.max_part_header_size, minimum=1)


_FASTAPI_FORM_LIMITS = {
    "max_fields": "max_fields",
    "max_files": "max_files",
    "max_part_size": "max_field_size",
}


def with_form_limits(limits: Limits, given: Mapping[str, int] | None) -> Limits:
    """Return `limits` with FastAPI's `form_limits={...}` applied to its `FormLimits`.

    FastAPI's keys are `max_fields`, `max_files` and `max_part_size` (trivium's
    `max_field_size`); a key left out keeps the value `limits` already has.

    Raises:
        TypeError: a key FastAPI's `form_limits` does not have (a typo is never ignored).
        ConfigurationError: a value that is not an integer >= 0 (`limits-invalid`).
    """
    if not given:
        return limits
    changes = {}
    for key, value in given.items():
        name = _FASTAPI_FORM_LIMITS.get(key)
        if name is None:
            known = ", ".join(_FASTAPI_FORM_LIMITS)
            raise TypeError(f"form_limits got an unexpected key {key!r}; the keys are {known}")
        _check_limit(key, value, minimum=0, owner="form_limits")
        changes[name] = value
    return replace(limits, form=replace(limits.form, **changes))


def _check_limit(name: str, value: object, *, minimum: int, owner: str = "FormLimits") -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigurationError(
            f"{owner}.{name} must be an integer >= {minimum}, not {value!r}", "limits-invalid"
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one request may send; exceeding one gives a 4xx, never a 500."""

    max_body_size: int | None = 10 * MiB
    """Largest body (JSON, urlencoded, raw) in bytes; larger gives 413. `None`: no limit."""
    max_upload_size: int | None = 100 * MiB
    """Largest `multipart/form-data` body in bytes; larger gives 413."""
    max_json_depth: int | None = 64
    """Deepest nesting of JSON arrays and objects; deeper gives 400."""
    form: FormLimits = field(default_factory=FormLimits)
    """Limits on the fields and files inside a form."""
    timeout: float | None = None
    """Seconds a handler may take before the client gets 503; `None`: no limit."""

    def __post_init__(self) -> None:
        for name in ("max_body_size", "max_upload_size", "max_json_depth"):
            value = getattr(self, name)
            if value is not None:
                _check_limit(name, value, minimum=1, owner="Limits")
        timeout = self.timeout
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout < float("inf")
        ):
            raise ConfigurationError(
                f"Limits.timeout must be a positive number of seconds, not {self.timeout!r}",
                "limits-invalid",
            )


def check_content_encoding(encoding: str | None) -> None:
    """Raise a 415 when the body is compressed (`Content-Encoding` other than `identity`).

    Called where a body fails to parse, and before a form is parsed: a compressed body
    is refused by name rather than reported as malformed JSON or read as garbage fields.
    """
    if encoding is None:
        return
    codings = [part.strip().lower() for part in encoding.split(",") if part.strip()]
    if any(coding != "identity" for coding in codings):
        raise HTTPException(
            415,
            f"Unsupported Content-Encoding {encoding!r}: send the request body uncompressed",
            headers={"accept-encoding": "identity"},
        )


def check_json_depth(body: bytes, limit: int) -> None:
    """Raise a 400 when `body` nests JSON arrays/objects deeper than `limit`.

    Bodies with fewer brackets than the limit can't be too deep, so the common case costs
    two C-level counts; only suspicious bodies are scanned.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                raise HTTPException(400, f"JSON body nests deeper than the limit of {limit}")
        elif byte in (0x5D, 0x7D):
            depth -= 1


_LONG_NUMBER = re.compile(rb"[0-9]{300}")
"""A run of digits past what a double holds: orjson refuses such an integer outright."""


def loads_long_integers(body: bytes) -> Any:
    """Parse a JSON body orjson refused, when it holds an integer too long for a double.

    Valid JSON, and Python's `json` (which FastAPI uses) reads such integers exactly, up
    to `sys.get_int_max_str_digits()` digits. Only the failure path calls this. A float
    that overflows, `NaN` and `Infinity` stay refused, as orjson refuses them.

    Raises:
        ValueError: the body is not JSON, or not only because of a long integer.
    """
    if not _LONG_NUMBER.search(body):
        raise ValueError("no long integer")
    return json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is beyond the range of a float")
    return value
