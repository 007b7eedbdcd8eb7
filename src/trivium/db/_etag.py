"""Optimistic concurrency: entity tags of rows and `If-Match` preconditions.

A client reads a row with its `ETag`, then sends the tag back in `If-Match` when it
writes: if someone changed the row meanwhile, the tags differ and the write is refused
with `412 Precondition Failed` instead of silently overwriting the other change.

A row's tag is its version number when the model is `Versioned` (SQLAlchemy's
`version_id_col`, which also makes a concurrent `UPDATE` of a stale row fail), and
otherwise a hash of its representation. Tags are strong, since `If-Match` compares
strongly (RFC 9110 §13.1.1): equal tags mean byte-identical representations.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING
from typing import Any

import orjson
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column

from trivium.errors import HTTPException

if TYPE_CHECKING:
    from pydantic import BaseModel

    from trivium.http import Request

__all__ = ["Versioned", "check_if_match", "etag", "etag_matches"]

_TAG = re.compile(r'(?:W/)?"[^"]*"')


class Versioned:
    """Mixin: a `version` column SQLAlchemy increments on every update, and checks.

    An `UPDATE` or `DELETE` of a row whose version changed since it was read matches no
    row and raises `StaleDataError`; `crud_router` answers it with a 412. The version is
    also the row's ETag, so no hashing is needed.

    ```python
    class Document(IntPK, Versioned, Model):
        __tablename__ = "documents"
        text: Mapped[str]
    ```
    """

    version: Mapped[int] = mapped_column(default=1, sort_order=90)
    """The row's version: 1 on insert, then one more on each update."""

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - a class-level directive
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def _default(value: Any) -> str:
    return str(value)


def etag(row: Any, schema: type[BaseModel] | None = None) -> str:
    """Return the strong entity tag of `row`, quoted, for an `ETag` header.

    A `Versioned` row's tag is its version. Otherwise the tag hashes `schema`'s
    representation of the row (give the response schema, so that columns the client
    never sees do not leak into the tag), or every column when no schema is given.
    """
    if isinstance(row, Versioned):
        key = getattr(row, "id", None)
        return f'"{type(row).__name__}-{key}-v{row.version}"'
    if schema is not None:
        content = schema.model_validate(row).model_dump_json().encode()
    else:
        values = {attr.key: getattr(row, attr.key) for attr in row.__mapper__.column_attrs}
        content = orjson.dumps(values, default=_default, option=orjson.OPT_SORT_KEYS)
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def etag_matches(header: str, current: str) -> bool:
    """Whether an `If-Match` value names `current`: `*`, or the tag compared strongly."""
    if header.strip() == "*":
        return True
    return any(tag == current for tag in _TAG.findall(header) if not tag.startswith("W/"))


def check_if_match(request: Request, current: str, *, required: bool = False) -> None:
    """Refuse a write whose `If-Match` header does not name the row's `current` tag.

    ```python
    @app.put("/documents/{id}")
    async def replace(id: int, body: DocumentIn, request: Request, session: Session) -> dict:
        document = await Document.objects(session).select_for_update().get(id=id)
        check_if_match(request, etag(document))
        ...
    ```

    Raises:
        HTTPException: 412 when the header names other tags (someone changed the row),
            with the current tag in the response's `ETag`; 428 when `required` and the
            header is missing.
    """
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise HTTPException(
                428,
                "this request needs an If-Match header with the ETag of the version "
                "it changes (read it first)",
            )
        return
    if not etag_matches(header, current):
        raise HTTPException(
            412,
            "the resource changed since it was read (If-Match does not match its ETag); "
            "read it again and retry",
            headers={"etag": current},
        )
