"""The entity tag of a change page: the object's, and the inline rows the page shows.

A save sends back the tag of the page it came from; a tag that no longer matches means
someone else saved the object, or one of its inline rows, after the page was opened
(`_edit.py` refuses it with 409). The object's part is `trivium.db.etag` (its version
for `Versioned` models, a hash of its columns otherwise); each inline adds its rows as
the page draws them: a one-to-many row's key and shown fields, a link's key. So two
users editing, adding or deleting the same parent's inline rows cannot overwrite each
other silently. A model without inlines keeps its plain `etag`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from typing import Any

import orjson

from trivium.admin._inlines import existing_rows
from trivium.db import etag

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.admin._options import ModelAdmin

__all__ = ["page_tag"]


async def page_tag(model_admin: ModelAdmin, session: AsyncSession, obj: Any) -> str:
    """Return the tag of `obj`'s change page (one query per inline)."""
    tag = etag(obj)
    if not model_admin.inline_sets:
        return tag
    parts: list[Any] = [tag]
    for inline in model_admin.inline_sets:
        pk = inline.meta.pk.name
        rows = await existing_rows(session, obj, model_admin, inline)
        parts.append(
            [
                inline.relation,
                [[getattr(row, pk), *(getattr(row, f) for f in inline.fields)] for row in rows],
            ]
        )
    content = orjson.dumps(parts, default=str)
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'
