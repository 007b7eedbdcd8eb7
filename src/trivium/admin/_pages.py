"""`AdminPage`: a page that a plugin or the project adds to the admin.

The admin gates it as its own pages (active staff only; a `permission` besides
superusers), links it from the index and renders the template the page names with the
admin's shared context (user, messages, the log-out form), so the template can extend
`admin/base.html`. `trivium.tasks` adds its "Tasks" page this way.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from trivium.http import Request
    from trivium.responses import Response

__all__ = ["AdminPage"]

PageView = Callable[["Request"], Awaitable["Mapping[str, Any] | Response"]]
"""A page's view: the template's context, or a response (a redirect after a POST)."""


@dataclass(frozen=True, slots=True)
class AdminPage:
    """A page of the admin at `{prefix}{path}`, answering GET and POST.

    ```python
    admin.add_page(AdminPage("/reports", "Reports", view=reports, template="reports.html"))
    ```

    `view(request)` returns the context of `template` (looked up in the app's template
    folders and the plugins' ones; it may `{% extends "admin/base.html" %}`), or a
    response to send as it is. A POST from a form must carry `{{ csrf_input() }}`.
    """

    path: str
    """Where the page lives under the admin's prefix (`"/tasks"`)."""
    title: str
    """The link text on the index, and the page's title."""
    view: PageView
    """Computes the page (see above)."""
    template: str
    """The template rendered with the view's context."""
    permission: str | None = None
    """The permission (besides superusers) a staff user needs; `None`: any staff."""

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or self.path.endswith("/") or "{" in self.path:
            raise ConfigurationError(
                f"AdminPage(path={self.path!r}): a fixed path starting with '/' and not "
                "ending with one",
                "admin-page",
            )
