"""`_changelist_filters`: the change list's state carried through the object pages.

A row link of a searched, filtered, sorted or paged change list carries the list's
query string in one parameter, `_changelist_filters` (as Django's admin does); the
change, add, delete and history pages pass it on in their links, forms and redirects,
so a save lands on the list as the user left it. The value is only ever parsed as a
query string, re-encoded and put after the model's own change list path: it cannot
lead anywhere else (no open redirect).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl
from urllib.parse import urlencode

if TYPE_CHECKING:
    from trivium.admin._options import ModelAdmin
    from trivium.http import Request

__all__ = ["PARAM", "carried_query", "carry", "changelist_filters", "changelist_url", "clean_query"]

PARAM = "_changelist_filters"
"""The query parameter holding the change list's own query string."""
MAX_LENGTH = 4000
"""The longest `_changelist_filters` value read (a longer one is cut)."""


def clean_query(raw: str) -> str:
    """Return the query string `raw` parsed and encoded again: nothing but `k=v&...`."""
    pairs = parse_qsl(raw[:MAX_LENGTH], keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k != PARAM])


def changelist_filters(request: Request) -> str:
    """Return the request's `_changelist_filters` as a clean query string (`""` if none)."""
    return clean_query(request.query_params.get(PARAM, ""))


def carried_query(filters: str) -> str:
    """Return `?_changelist_filters=...` for a link of an object page, or `""`."""
    return "?" + urlencode({PARAM: filters}) if filters else ""


def carry(url: str, filters: str) -> str:
    """Return `url` (a path without a query) with the change list's state carried on."""
    return url + carried_query(filters)


def changelist_url(model_admin: ModelAdmin, filters: str) -> str:
    """Return the model's change list URL as the user left it (`filters` from the request)."""
    base = model_admin.site.url(model_admin.app_label, model_admin.model_name)
    return f"{base}?{filters}" if filters else base
