"""Who is writing: the actor and request id an audit entry records, kept in a context variable.

Two things set it, and the innermost wins:

- `AuditStep`, the request step the `Audit` plugin compiles into the routes that take the
  request (or may write: unsafe methods). Its `before` only stores the connection's scope
  in the context variable; the user, the token and the request id are read from the
  scope when the first entry is written, so a request that writes nothing pays one
  context-variable assignment.
- `actor(...)`, a context manager for scripts, tasks and commands, or for a handler that
  acts on someone else's behalf.

Writes outside both are recorded as `"system"`, with the request id of
`trivium.middleware.current_request_id()` when a `RequestIDMiddleware` runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from contextvars import Token
from typing import TYPE_CHECKING
from typing import Any

from trivium.plugins import RequestStep

if TYPE_CHECKING:
    from trivium.http import HTTPConnection
    from trivium.http import Request
    from trivium.http import Response

__all__ = ["Actor", "AuditStep", "actor", "current_actor"]


@dataclasses.dataclass(frozen=True, slots=True)
class Actor:
    """Who made a write, as recorded in an audit entry."""

    kind: str
    """`"user"`, `"token"`, `"jwt"`, `"system"` or `"anonymous"` (`trivium.audit.ActorKind`)."""
    id: str | None = None
    """The user's id as text (for `"system"`, the name given to `actor(name=...)`)."""
    token_id: str | None = None
    """The API token's id or the JWT's `jti`."""
    request_id: str | None = None
    """The request's id, if the write was made while serving one."""


class _RequestContext:
    """The scope of the request being served; the actor is read from it on first use."""

    __slots__ = ("_actor", "scope", "token")

    def __init__(self, scope: Any) -> None:
        self.scope = scope
        self._actor: Actor | None = None
        self.token: Token[_RequestContext | Actor | None] | None = None

    def actor(self) -> Actor:
        if self._actor is None:
            self._actor = _from_scope(self.scope)
        return self._actor


_MAX_NAME = 64
_MAX_REQUEST_ID = 128

_current: ContextVar[_RequestContext | Actor | None] = ContextVar("trivium_audit", default=None)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _request_id(scope: Any) -> str:
    state = scope.get("state")
    found = state.get("request_id") if isinstance(state, dict) else None
    if found is None:
        from trivium.middleware import current_request_id

        found = current_request_id()
    if found is None:
        # No RequestIDMiddleware: an id of our own, shared by the request's entries.
        found = uuid.uuid4().hex
        if isinstance(state, dict):
            state["request_id"] = found
        else:
            scope["state"] = {"request_id": found}
    return str(found)


def _from_scope(scope: Any) -> Actor:
    request_id = _request_id(scope)
    user = scope.get("user")
    user_id = getattr(user, "id", None) if user is not None else None
    if user_id is None:
        return Actor("anonymous", request_id=request_id)
    info = scope.get("auth")
    method = getattr(info, "method", None)
    kind = method if method in ("token", "jwt") else "user"
    token_id = getattr(info, "token_id", None) if kind != "user" else None
    return Actor(kind, _text(user_id), _text(token_id), request_id)


def current_actor() -> Actor:
    """Return who the writes made now are recorded as.

    The innermost `actor(...)` block, else the request being served (its user, API token
    or JWT, or `"anonymous"`), else `"system"`.
    """
    current = _current.get()
    if current is None:
        from trivium.middleware import current_request_id

        return Actor("system", "system", request_id=current_request_id())
    if isinstance(current, Actor):
        return current
    return current.actor()


@contextlib.contextmanager
def actor(
    user: Any = None,
    *,
    token: Any = None,
    name: str | None = None,
    request_id: str | None = None,
) -> Iterator[Actor]:
    """Record the writes made inside the block as made by `user` (or by `name`, a system actor).

    ```python
    with actor(name="nightly-import"):
        await Article.objects(session).filter(stale=True).delete()
    with actor(admin_user):  # or a user id
        ...
    ```

    Args:
        user: the user (an object with an `id`) or the user's id.
        token: the API token (an object with an `id`) or its id, when acting through one.
        name: for code acting on its own (a script, a task): recorded as a `"system"`
            actor with this name. Not together with `user`.
        request_id: the id to record (default: the enclosing request's, if any).

    Raises:
        TypeError: both `user` and `name` were given.
        ValueError: `name` is empty or longer than 64 characters, or `request_id`
            longer than 128 (the columns' sizes).
    """
    if user is not None and name is not None:
        raise TypeError("actor() takes a user or a name, not both")
    if name is not None and not 0 < len(name) <= _MAX_NAME:
        raise ValueError(f"actor(name=...) takes 1 to {_MAX_NAME} characters, got {len(name)}")
    if request_id is not None and not 0 < len(request_id) <= _MAX_REQUEST_ID:
        raise ValueError(f"actor(request_id=...) takes 1 to {_MAX_REQUEST_ID} characters")
    enclosing = current_actor()
    rid = request_id if request_id is not None else enclosing.request_id
    if user is None:
        chosen = Actor("system", name or "system", None, rid)
    else:
        user_id = getattr(user, "id", user)
        token_id = getattr(token, "id", token)
        chosen = Actor(
            "token" if token is not None else "user", _text(user_id), _text(token_id), rid
        )
    reset = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(reset)


class AuditStep(RequestStep):
    """Remember the request's scope for the audit entries its writes make (see module docstring)."""

    __slots__ = ()
    order = 250  # after authentication (200): the user is in the scope by the first write

    async def before(self, connection: HTTPConnection) -> None:
        """Store the scope; nothing is read from it until a write is audited."""
        context = _RequestContext(connection.scope)
        context.token = _current.set(context)

    async def after(self, request: Request, response: Response | None) -> None:
        """Forget the request (servers may run the next request in the same context)."""
        del request, response
        context = _current.get()
        if isinstance(context, _RequestContext) and context.token is not None:
            try:
                _current.reset(context.token)
            except ValueError:  # set in another context: just forget it here
                _current.set(None)
