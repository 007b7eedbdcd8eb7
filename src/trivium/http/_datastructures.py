"""Request data structures: headers, query parameters, URLs, form data and state.

Headers stay as the raw `(bytes, bytes)` pairs the server gave; decoding and lookup tables
are built only when a handler first asks for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import MutableMapping
from collections.abc import Sequence
from typing import Any
from typing import Generic
from typing import NamedTuple
from typing import TypeVar
from urllib.parse import SplitResult
from urllib.parse import unquote_plus
from urllib.parse import urlencode
from urllib.parse import urlsplit

from trivium.errors import HTTPException
from trivium.http._host import host_problem
from trivium.http._paths import scope_path
from trivium.types import Scope

__all__ = [
    "URL",
    "Address",
    "FormData",
    "Headers",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "State",
    "check_header_name",
    "check_header_value",
    "scope_path",
]

V = TypeVar("V")
RawHeaders = list[tuple[bytes, bytes]]


class Address(NamedTuple):
    """A peer's host and port."""

    host: str
    port: int


class MultiDict(Mapping[str, V], Generic[V]):
    """An immutable mapping that keeps every value of a repeated key.

    `d[key]` gives the last value (what a form or query string means by a single
    value); `d.getlist(key)` gives them all in order.
    """

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Iterable[tuple[str, V]] = ()) -> None:
        self._list = list(items)
        self._dict = dict(self._list)

    def getlist(self, key: str) -> list[V]:
        """Return every value given for `key`, in order (empty when absent)."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, V]]:
        """Return every `(key, value)` pair, repeated keys included."""
        return list(self._list)

    def __getitem__(self, key: str) -> V:
        return self._dict[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Return the last value given for `key`, or `default`."""
        return self._dict.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return sorted(self._list, key=repr) == sorted(other._list, key=repr)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._list))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(MultiDict[str]):
    """Parsed query string parameters."""

    __slots__ = ()

    def __init__(
        self,
        query: str | bytes | Mapping[str, str] | Iterable[tuple[str, str]] = "",
    ) -> None:
        if isinstance(query, bytes):
            # A query sent as raw UTF-8 (curl, bots) is text as the client meant it;
            # percent-escapes are UTF-8 too (`parse_query`).
            query = query.decode(errors="replace")
        if isinstance(query, str):
            super().__init__(parse_query(query))
        elif isinstance(query, Mapping):
            super().__init__(query.items())
        else:
            super().__init__(query)

    def __str__(self) -> str:
        return urlencode(self._list)


class FormData(MultiDict[Any]):
    """Parsed form fields; file fields hold `UploadFile` objects."""

    __slots__ = ()

    async def close(self) -> None:
        """Close every uploaded file held by the form."""
        for _, value in self._list:
            close = getattr(value, "close", None)
            if close is not None:
                await close()


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only view over raw request or response headers."""

    __slots__ = ("_lookup", "raw")

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        raw: RawHeaders | None = None,
        scope: Scope | None = None,
    ) -> None:
        if scope is not None:
            raw = scope["headers"]
        elif headers is not None:
            raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.raw: RawHeaders = raw if raw is not None else []
        """The header pairs as bytes, names lower-cased."""
        self._lookup: dict[str, str] | None = None

    def _table(self) -> dict[str, str]:
        table = self._lookup
        if table is None:
            table = {}
            for key, value in self.raw:
                name = key.decode("latin-1").lower()
                text = value.decode("latin-1")
                # Repeated headers fold into one comma-separated value (RFC 9110 5.3).
                table[name] = f"{table[name]}, {text}" if name in table else text
            self._lookup = table
        return table

    def getlist(self, key: str) -> list[str]:
        """Return every value of header `key`, unfolded, in order."""
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.raw if k.lower() == name]

    def __getitem__(self, key: str) -> str:
        if self._lookup is not None:
            return self._lookup[key.lower()]
        # A handler usually reads one or two headers: scanning the raw pairs is cheaper
        # than decoding every header into a table.
        name = key.lower().encode("latin-1")
        found = [v for k, v in self.raw if k == name]
        if not found:
            raise KeyError(key)
        if len(found) == 1:
            return found[0].decode("latin-1")
        return ", ".join(v.decode("latin-1") for v in found)

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """Return header `key` (repeated headers folded with ", "), or `default`."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key.lower().encode("latin-1")
        return any(k == name for k, _ in self.raw)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._table())!r})"

    def mutablecopy(self) -> MutableHeaders:
        """Return a `MutableHeaders` holding a copy of these headers (as Starlette's)."""
        return MutableHeaders(raw=list(self.raw))


class MutableHeaders(Headers):
    """Response headers that can be set, appended and deleted."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        check_header_name(key)
        check_header_value(value)
        name = key.lower().encode("latin-1")
        self.raw[:] = [(k, v) for k, v in self.raw if k != name]
        self.raw.append((name, value.encode("latin-1")))
        self._lookup = None

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        before = len(self.raw)
        self.raw[:] = [(k, v) for k, v in self.raw if k != name]
        if len(self.raw) == before:
            raise KeyError(key)
        self._lookup = None

    def append(self, key: str, value: str) -> None:
        """Add a header, keeping existing values of the same name (e.g. `set-cookie`)."""
        check_header_name(key)
        check_header_value(value)
        self.raw.append((key.lower().encode("latin-1"), value.encode("latin-1")))
        self._lookup = None

    def setdefault(self, key: str, value: str) -> str:
        """Set `key` to `value` unless it is already set; return the current value."""
        if key in self:
            return self[key]
        self[key] = value
        return value

    def update(self, other: Mapping[str, str]) -> None:
        """Set every header of `other`."""
        for key, value in other.items():
            self[key] = value

    def add_vary_header(self, vary: str) -> None:
        """Add `vary` to the `Vary` header, keeping the names already there (as Starlette's)."""
        existing = self.get("vary")
        if existing is not None:
            names = [name.strip() for name in existing.split(",") if name.strip()]
            if vary.strip().lower() in (name.lower() for name in names):
                return
            vary = ", ".join([*names, vary])
        self["vary"] = vary


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_header_name(name: str) -> None:
    """Refuse a header name that is not an HTTP token (RFC 9110: no space, colon or CR/LF).

    Raises:
        ValueError: `name` is empty or holds a character a header name can't have.
    """
    if _TOKEN.fullmatch(name) is None:
        raise ValueError(
            f"header name {name!r} is not a valid HTTP header name (letters, digits and "
            "!#$%&'*+-.^_`|~ only)"
        )


def check_header_value(value: str) -> None:
    """Refuse a header value with a control character (only the tab is allowed, RFC 9110).

    A CR or LF would let the caller inject headers or split the response; servers
    refuse the others in their own ways (one drops the header, another fails).

    Raises:
        ValueError: `value` holds such a character.
    """
    if _CONTROL.search(value) is not None:
        raise ValueError(
            f"header value {value!r} holds a control character (CR, LF, NUL or another; "
            "only the tab is allowed)"
        )


class URL:
    """A URL with Starlette's accessors and copy helpers, parsed on first use.

    Built from a string, from an ASGI scope (`URL(scope=scope)`, the URL the client
    requested) or from components (`URL(scheme="https", netloc="example.com", path="/")`).
    """

    __slots__ = ("_parts", "_url")

    def __init__(self, url: str = "", scope: Scope | None = None, **components: str) -> None:
        if scope is not None:
            if url or components:
                raise TypeError("URL() takes a url, a scope or components, not several")
            url = _scope_url(scope)
        elif components:
            if url:
                raise TypeError("URL() takes a url, a scope or components, not several")
            url = SplitResult("", "", "", "", "")._replace(**components).geturl()
        self._url = url
        self._parts: SplitResult | None = None

    @classmethod
    def from_scope(cls, scope: Scope) -> URL:
        """Rebuild the full URL the client requested from an ASGI scope.

        The host comes from the `Host` header when it holds one, else from the address
        the server listens on.

        Raises:
            HTTPException: 400 when the `Host` header is not a valid `host[:port]`
                or appears twice: a URL is never built from a forged authority.
        """
        return cls(_scope_url(scope))

    @property
    def components(self) -> SplitResult:
        """The parsed parts (`urllib.parse.SplitResult`), as Starlette's `URL.components`."""
        parts = self._parts
        if parts is None:
            parts = self._parts = urlsplit(self._url)
        return parts

    @property
    def scheme(self) -> str:
        """The scheme, e.g. `https`."""
        return self.components.scheme

    @property
    def netloc(self) -> str:
        """Host and port as written (with the user name and password, if any)."""
        return self.components.netloc

    @property
    def username(self) -> str | None:
        """The user name before `@` in the authority, if any (as written, not decoded)."""
        return self.components.username

    @property
    def password(self) -> str | None:
        """The password after the user name, if any (as written, not decoded)."""
        return self.components.password

    @property
    def hostname(self) -> str | None:
        """The host name alone."""
        return self.components.hostname

    @property
    def port(self) -> int | None:
        """The explicit port, if any."""
        return self.components.port

    @property
    def path(self) -> str:
        """The path."""
        return self.components.path

    @property
    def query(self) -> str:
        """The raw query string."""
        return self.components.query

    @property
    def fragment(self) -> str:
        """The fragment after `#`."""
        return self.components.fragment

    @property
    def is_secure(self) -> bool:
        """Whether the scheme is `https` or `wss`."""
        return self.scheme in ("https", "wss")

    def replace(self, **parts: str | int | None) -> URL:
        """Return a copy with some parts replaced.

        The parts are `scheme`, `netloc`, `path`, `query` and `fragment`, and those of the
        authority: `username`, `password`, `hostname` and `port` (`None` removes the port,
        the user name or the password), as in Starlette.
        """
        if parts.keys() & {"username", "password", "hostname", "port"}:
            parts["netloc"] = self._netloc(
                parts.pop("hostname", None),
                parts.pop("port", self.port),
                parts.pop("username", self.username),
                parts.pop("password", self.password),
            )
        fields = {key: "" if value is None else str(value) for key, value in parts.items()}
        return URL(self.components._replace(**fields).geturl())

    def _netloc(
        self,
        hostname: str | int | None,
        port: str | int | None,
        username: str | int | None,
        password: str | int | None,
    ) -> str:
        if hostname is None:
            host = self.netloc.rpartition("@")[2]
            if not host.endswith("]"):  # an IPv6 address keeps its colons
                host = host.rsplit(":", 1)[0]
            hostname = host
        netloc = str(hostname)
        if port is not None:
            netloc += f":{port}"
        if username is not None:
            userinfo = str(username) if password is None else f"{username}:{password}"
            netloc = f"{userinfo}@{netloc}"
        return netloc

    def include_query_params(self, **params: Any) -> URL:
        """Return a copy with `params` set in the query string.

        Every value of a parameter not named is kept, in order; a named parameter
        replaces all of its values and comes last (`?tag=a&tag=b&page=1` with `page=2`
        gives `?tag=a&tag=b&page=2`).
        """
        pairs = [(key, value) for key, value in parse_query(self.query) if key not in params]
        pairs.extend((str(key), str(value)) for key, value in params.items())
        return self.replace(query=urlencode(pairs))

    def replace_query_params(self, **params: Any) -> URL:
        """Return a copy whose query string is `params` alone."""
        return self.replace(query=urlencode([(str(k), str(v)) for k, v in params.items()]))

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        """Return a copy without any value of the parameter(s) `keys`."""
        removed = {keys} if isinstance(keys, str) else set(keys)
        pairs = [(key, value) for key, value in parse_query(self.query) if key not in removed]
        return self.replace(query=urlencode(pairs))

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        url = self._url
        if self.password:
            url = str(self.replace(password="********"))  # noqa: S106 - a mask, not a password
        return f"URL({url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (str, URL)) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._url)


def _scope_url(scope: Scope) -> str:
    """Return the URL the client requested, from an ASGI scope (see `URL.from_scope`)."""
    scheme = scope.get("scheme", "http")
    path = scope_path(scope)
    query = scope.get("query_string", b"")
    host = None
    problem = host_problem({"headers": scope["headers"]})
    if problem is not None:
        raise HTTPException(400, f"Invalid Host header: {problem}")
    for key, value in scope["headers"]:
        if key == b"host":
            host = value.decode("latin-1") or None
            break
    if host is None:
        try:
            server = scope["server"]
        except KeyError:
            server = None
        if server is None:
            host = "localhost"
        else:
            host, port = server
            default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
            if port != default:
                host = f"{host}:{port}"
    url = f"{scheme}://{host}{path}"
    if query:
        url += "?" + query.decode("latin-1")
    return url


class State:
    """An attribute bag for app-wide or per-request state (`app.state.db = ...`).

    It reads and writes the dict it is given, not a copy: a request's state is its
    scope's `"state"` dict, so what a middleware sets on `request.state` reaches the
    handler's `request.state` (as in Starlette).
    """

    def __init__(self, values: MutableMapping[str, Any] | None = None) -> None:
        super().__setattr__("_values", {} if values is None else values)

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"state has no attribute {name!r}") from None

    def __delattr__(self, name: str) -> None:
        del self._values[name]

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def _as_dict(self) -> dict[str, Any]:
        return self._values  # type: ignore[no-any-return]


def parse_query(query: str) -> list[tuple[str, str]]:
    """Split a query string into pairs, decoding `%xx` and `+` only where present.

    Blank values are kept (`?a=&b` gives `("a", "")` and `("b", "")`); invalid UTF-8 in
    percent-escapes is replaced rather than rejected.
    """
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "%" in piece or "+" in piece:
            name = unquote_plus(name, errors="replace")
            value = unquote_plus(value, errors="replace")
        pairs.append((name, value))
    return pairs


def ensure_sequence(value: Sequence[str] | str | None) -> list[str]:
    """Normalise a string-or-list option to a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)
