"""Turn a handler signature (and its dependencies') into request fields and call steps.

Done once per route at start-up. The result is flat: every request parameter of the
handler and of all its dependencies is one `FieldSpec` (validated together by a single
pydantic validator), and every callable is one `Step` in the order it must run.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable
from collections.abc import Mapping
from typing import Annotated
from typing import Any
from typing import get_args
from typing import get_origin

if typing.TYPE_CHECKING:
    from pydantic.fields import FieldInfo


from trivium.di._depends import DependencyScope
from trivium.di._depends import Depends
from trivium.di._depends import SecurityScopes
from trivium.errors import ConfigurationError
from trivium.params._constraints import check_constraints
from trivium.params._duplicates import place_duplicate
from trivium.params._markers import UNSET
from trivium.params._markers import Body
from trivium.params._markers import File
from trivium.params._markers import Header
from trivium.params._markers import Param
from trivium.params._markers import ParamSource
from trivium.params._markers import Path
from trivium.params._markers import Query

__all__ = ["Analysis", "FieldSpec", "Special", "Step", "analyse", "field_info_for"]


class Special:
    """Kinds of values injected by type rather than read from the request."""

    REQUEST = "request"
    WEBSOCKET = "websocket"
    RESPONSE = "response"
    BACKGROUND = "background"


# Argument sources inside a step.
ARG_VALUE = 0  # a validated request value: key = (section, name or None)
ARG_STEP = 1  # the value of an earlier step: key = step index
ARG_SPECIAL = 2  # request, websocket, response or background tasks: key = Special.*
ARG_CONST = 3  # a value fixed at start-up (`SecurityScopes`): key = the value

# Step kinds.
CALL_ASYNC = 0
CALL_SYNC = 1
CALL_ASYNC_GEN = 2
CALL_SYNC_GEN = 3
CALL_ITER = 4  # a generator handler: called, its items streamed while the response is sent


@dataclasses.dataclass(slots=True)
class FieldSpec:
    """One request parameter, as validated."""

    source: ParamSource
    name: str
    """The name the client uses (alias, header name...); `""` for a whole-section model."""
    annotation: Any
    marker: Param
    default: Any
    is_sequence: bool
    is_model: bool
    """The parameter is a model gathering every field of its source (a param model)."""
    python_name: str
    key: str = ""
    """The key of the validated value: `name`, or a private one for a differing
    declaration of a parameter declared before (see `_duplicates`)."""

    def __post_init__(self) -> None:
        self.key = self.key or self.name

    @property
    def section(self) -> str:
        """The top-level key of the validated data, and the first item of error `loc`s."""
        if self.source in (ParamSource.FORM, ParamSource.FILE):
            return "body"
        return self.source.value

    @property
    def required(self) -> bool:
        """Whether the client must send this parameter."""
        return self.default is UNSET and self.marker.default_factory is None


@dataclasses.dataclass(slots=True)
class Step:
    """One callable to run, with where each of its arguments comes from."""

    call: Callable[..., Any]
    kind: int
    args: tuple[tuple[str, int, Any], ...]
    scope: DependencyScope
    cache_key: Any


@dataclasses.dataclass(slots=True)
class Analysis:
    """Everything a route needs from its handler and dependency signatures."""

    fields: list[FieldSpec]
    steps: list[Step]
    specials: set[str]
    dependency_calls: list[Callable[..., Any]]
    call_scopes: dict[Any, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """The OAuth2 scopes `Security(...)` requires of each security dependency."""
    shadows: list[FieldSpec] = dataclasses.field(default_factory=list)
    """Later declarations of a parameter in `fields` that differ from it (own default,
    constraints or type): validated too, never documented (FastAPI documents the first)."""

    def documented_fields(self) -> list[FieldSpec]:
        """Return `fields` in the order FastAPI documents them.

        That is the handler's own, then its dependencies' (the route's and app's first),
        each dependency's own before those of its own dependencies.
        """
        steps = self.steps
        if len(steps) < 2:
            return self.fields
        by_key = {(spec.section, spec.name): spec for spec in self.fields}
        referenced = {key for step in steps for _, source, key in step.args if source == ARG_STEP}
        # Steps nothing takes as an argument ran for their effect: `dependencies=[...]`.
        effects = [index for index in range(len(steps) - 1) if index not in referenced]
        ordered: dict[tuple[str, str], FieldSpec] = {}
        seen: set[int] = set()

        def visit(index: int, first: list[int]) -> None:
            if index in seen:
                return
            seen.add(index)
            args = steps[index].args
            for _, source, key in args:
                if source == ARG_VALUE and key in by_key:
                    ordered.setdefault(key, by_key[key])
            for sub in [*first, *(key for _, source, key in args if source == ARG_STEP)]:
                visit(sub, [])

        visit(len(steps) - 1, effects)
        ordered.update({key: spec for key, spec in by_key.items() if key not in ordered})
        return list(ordered.values())


class _Analyser:
    def __init__(
        self,
        path_names: set[str],
        overrides: Mapping[Callable[..., Any], Callable[..., Any]],
        websocket: bool,
    ) -> None:
        self.path_names = path_names
        self.overrides = overrides
        self.websocket = websocket
        self.fields: dict[tuple[str, str], FieldSpec] = {}
        self.shadows: list[FieldSpec] = []
        self.steps: list[Step] = []
        self.specials: set[str] = set()
        self.cache: dict[Any, int] = {}
        self.active: list[Callable[..., Any]] = []
        self.calls: list[Callable[..., Any]] = []
        self.security_scopes: tuple[str, ...] = ()
        self.call_scopes: dict[Any, tuple[str, ...]] = {}

    def add_callable(
        self,
        call: Callable[..., Any],
        scope: DependencyScope = "request",
        use_cache: bool = True,
        extra_deps: tuple[Depends, ...] = (),
        chosen: bool = True,
    ) -> int:
        """Add `call` and what it depends on; return its step's index.

        `chosen` says the scope was declared (`Depends(scope=...)`, `__trivium_scope__`):
        a `yield` dependency left to the default request scope that takes a
        function-scoped one becomes function-scoped itself, and one declared request-scoped
        is refused (`dependency-scope`).
        """
        call = self.overrides.get(call, call)
        key: Any = (call, scope)
        if self.security_scopes:  # the scopes `Security(...)` requires on the way here
            key = (call, scope, self.security_scopes)
            known = self.call_scopes.get(call, ())
            extra = tuple(s for s in self.security_scopes if s not in known)
            self.call_scopes[call] = (*known, *extra)
        if use_cache and key in self.cache:
            return self.cache[key]
        if call in self.active:
            chain = " -> ".join(_name(c) for c in [*self.active, call])
            raise ConfigurationError(f"dependency cycle: {chain}", "dependency-cycle")
        root = not self.active  # the handler, not a dependency
        self.active.append(call)
        try:
            for dep in extra_deps:
                self._add_depends(dep, None)
            args = tuple(self._argument(p, h, call) for p, h in _parameters(call))
        finally:
            self.active.pop()
        kind = _call_kind(call)
        if scope == "app":
            self._check_app_scope(call, args)
        elif scope == "request" and not root and kind in (CALL_ASYNC_GEN, CALL_SYNC_GEN):
            if not chosen and self._takes_function_scoped(args):
                scope = "function"  # torn down with what it holds, before the response
            else:
                self._check_request_scope(call, args)
        self.steps.append(Step(call, kind, args, scope, key))
        self.calls.append(call)
        index = len(self.steps) - 1
        if use_cache:
            self.cache[key] = index
        return index

    def _check_app_scope(
        self, call: Callable[..., Any], args: tuple[tuple[str, int, Any], ...]
    ) -> None:
        for name, source, key in args:
            if source == ARG_STEP and self.steps[key].scope == "app":
                continue
            raise ConfigurationError(
                f"app-scoped dependency {_name(call)} takes {name!r}, which depends on the "
                "request; app-scoped dependencies may only depend on other app-scoped ones",
                "app-scope-request-param",
            )

    def _takes_function_scoped(self, args: tuple[tuple[str, int, Any], ...]) -> bool:
        return any(
            source == ARG_STEP and self.steps[key].scope == "function" for _, source, key in args
        )

    def _check_request_scope(
        self, call: Callable[..., Any], args: tuple[tuple[str, int, Any], ...]
    ) -> None:
        # A function-scoped value is torn down before the response, so before the
        # teardown of a request-scoped generator that holds it (FastAPI refuses it too).
        for name, source, key in args:
            if source == ARG_STEP and self.steps[key].scope == "function":
                sub = _name(self.steps[key].call)
                raise ConfigurationError(
                    f"request-scoped dependency {_name(call)} takes {name!r} from {sub}, a "
                    f"function-scoped dependency torn down before {_name(call)}'s teardown; "
                    f"give {sub} scope 'request', or {_name(call)} scope 'function'",
                    "dependency-scope",
                )

    def _add_depends(self, dep: Depends, annotation: Any) -> int:
        target = dep.dependency if dep.dependency is not None else annotation
        if not callable(target) or target is Any:
            raise ConfigurationError(
                f"Depends() needs a callable or a class annotation, got {target!r}",
                "depends-not-callable",
            )
        declared = dep.scope or getattr(target, "__trivium_scope__", None)
        scope = declared or "request"
        if scope not in ("function", "request", "app"):
            raise ConfigurationError(
                f"{_name(target)}.__trivium_scope__ must be 'function', 'request' or 'app'",
                "depends-scope",
            )
        added = getattr(dep, "scopes", ())
        if not added:
            return self.add_callable(target, scope, dep.use_cache, chosen=bool(declared))
        outer = self.security_scopes
        self.security_scopes = (*outer, *(s for s in added if s not in outer))
        try:
            return self.add_callable(target, scope, dep.use_cache, chosen=bool(declared))
        finally:
            self.security_scopes = outer

    def _argument(
        self, param: inspect.Parameter, hint: Any, owner: Callable[..., Any]
    ) -> tuple[str, int, Any]:
        annotation, markers = _split_annotated(hint)
        default = param.default
        marker: Param | Depends | None = None
        for meta in markers:
            if isinstance(meta, (Param, Depends)):
                marker = meta
        if isinstance(default, (Param, Depends)):
            marker = default
            default = UNSET
        if default is inspect.Parameter.empty:
            default = UNSET
        if isinstance(marker, Depends):
            return (param.name, ARG_STEP, self._add_depends(marker, annotation))
        if _is_security_scopes(annotation):
            return (param.name, ARG_CONST, SecurityScopes(self.security_scopes))
        special = _special_kind(annotation)
        if special is not None and marker is None:
            self.specials.add(special)
            return (param.name, ARG_SPECIAL, special)
        if marker is None:
            marker = self._infer_marker(param.name, annotation)
        return self._add_field(param, annotation, marker, default, owner)

    def _infer_marker(self, name: str, annotation: Any) -> Param:
        if name in self.path_names:
            return Path()
        if _is_upload(annotation):
            return File()
        if not self.websocket and not _is_scalar(annotation):
            return Body()
        if self.websocket and _is_model(annotation):
            return Body()  # a model is a body, which a websocket has not: refused below
        return Query()

    def _add_field(
        self,
        param: inspect.Parameter,
        annotation: Any,
        marker: Param,
        default: Any,
        owner: Callable[..., Any],
    ) -> tuple[str, int, Any]:
        if default is UNSET:
            default = marker.default
        source = marker.source
        if source is ParamSource.PATH and param.name not in self.path_names and not marker.alias:
            raise ConfigurationError(
                f"{_name(owner)} declares path parameter {param.name!r}, which is not in the "
                f"route path (path parameters: {sorted(self.path_names) or 'none'})",
                "path-param-missing",
            )
        if self.websocket and source in (ParamSource.BODY, ParamSource.FORM, ParamSource.FILE):
            raise ConfigurationError(
                f"websocket handler {_name(owner)} cannot take body parameter {param.name!r}",
                "websocket-body-param",
            )
        is_model = source in (
            ParamSource.QUERY,
            ParamSource.HEADER,
            ParamSource.COOKIE,
            ParamSource.FORM,
        ) and (
            _is_model(annotation) or (source is ParamSource.FORM and _is_model_union(annotation))
        )
        name = marker.alias or param.name
        if isinstance(marker, Header) and marker.convert_underscores and not marker.alias:
            name = name.replace("_", "-")
        if source is ParamSource.HEADER:
            name = name.lower()
        if is_model:
            # Not a wire name: the model reads many; a key no client name can clash with.
            name = "\0" + param.name
        if marker.constraints and not is_model:
            check_constraints(marker, _union_members(annotation), param.name, _name(owner))
        spec = FieldSpec(
            source=source,
            name=name,
            annotation=annotation,
            marker=marker,
            default=default,
            is_sequence=_is_sequence(annotation),
            is_model=is_model,
            python_name=param.name,
        )
        key = (spec.section, name)
        first = self.fields.get(key)
        if first is not None:  # declared again: validated on its own unless identical
            key = place_duplicate(first, spec, self.shadows, _name(owner))
        else:
            self.fields[key] = spec
        return (param.name, ARG_VALUE, key)


def analyse(  # noqa: PLR0913 - keyword-only switches of one analysis
    call: Callable[..., Any],
    *,
    path_names: set[str],
    dependencies: tuple[Depends, ...] = (),
    overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
    websocket: bool = False,
    handler: bool = True,
) -> Analysis:
    """Analyse `call` (a handler) with the route's extra `dependencies`.

    A generator `handler` is called without being advanced: what it yields is streamed
    as the response body. With `handler=False` (a dependency resolved on its own) a
    generator is advanced to its `yield`, as dependencies are.

    Raises:
        ConfigurationError: a parameter can't be resolved (unknown path parameter,
            dependency cycle, body on a websocket, conflicting declarations...).
    """
    analyser = _Analyser(path_names, overrides or {}, websocket)
    analyser.add_callable(call, "request", use_cache=False, extra_deps=dependencies)
    root = analyser.steps[-1]
    if handler and not websocket and root.kind in (CALL_ASYNC_GEN, CALL_SYNC_GEN):
        # A generator handler is not a dependency: its generator is the response body.
        root.kind = CALL_ITER
    return Analysis(
        fields=list(analyser.fields.values()),
        steps=analyser.steps,
        specials=analyser.specials,
        call_scopes=analyser.call_scopes,
        shadows=analyser.shadows,
        dependency_calls=analyser.calls[:-1],
    )


def _name(call: Any) -> str:
    return getattr(call, "__qualname__", None) or repr(call)


def _parameters(call: Callable[..., Any]) -> list[tuple[inspect.Parameter, Any]]:
    target: Any = call
    if inspect.isclass(call):
        target = call.__init__
    elif not (inspect.isfunction(call) or inspect.ismethod(call)):
        target = getattr(call, "__call__", call)  # noqa: B004 - callable instances
    try:
        signature = inspect.signature(call)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"cannot read the signature of {_name(call)}: {exc}", "unreadable-signature"
        ) from exc
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception as exc:
        raise ConfigurationError(
            f"cannot resolve the annotations of {_name(call)}: {exc}; define the types it "
            "uses at module level (or import them outside `if TYPE_CHECKING`)",
            "unresolvable-annotation",
        ) from exc
    result = []
    for param in signature.parameters.values():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise ConfigurationError(
                f"{_name(call)} has positional-only parameter {param.name!r}; handlers and "
                "dependencies receive keyword arguments",
                "positional-only-param",
            )
        result.append((param, hints.get(param.name, Any)))
    return result


def _split_annotated(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    if get_origin(hint) is Annotated:
        base, *meta = get_args(hint)
        kept = tuple(m for m in meta if not isinstance(m, (Param, Depends)))
        markers = tuple(m for m in meta if isinstance(m, (Param, Depends)))
        if kept:
            return Annotated[(base, *kept)], markers
        return base, markers
    return hint, ()


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _union_members(annotation: Any) -> tuple[Any, ...]:
    annotation = _unwrap(annotation)
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(a for a in get_args(annotation) if a is not type(None))
    return (annotation,)


def _is_security_scopes(annotation: Any) -> bool:
    return inspect.isclass(annotation) and issubclass(annotation, SecurityScopes)


def _special_kind(annotation: Any) -> str | None:
    from trivium.background import BackgroundTasks
    from trivium.http._request import HTTPConnection
    from trivium.http._response import Response
    from trivium.http._websocket import WebSocket

    annotation = _unwrap(annotation)
    if not inspect.isclass(annotation):
        return None
    if issubclass(annotation, WebSocket):
        return Special.WEBSOCKET
    if issubclass(annotation, HTTPConnection):
        return Special.REQUEST
    if issubclass(annotation, Response):
        return Special.RESPONSE
    if issubclass(annotation, BackgroundTasks):
        return Special.BACKGROUND
    return None


def _is_upload(annotation: Any) -> bool:
    from trivium.http._upload import UploadFile

    for member in _union_members(annotation):
        if inspect.isclass(member) and issubclass(member, UploadFile):
            return True
        if get_origin(member) in (list, tuple, set) and any(
            inspect.isclass(a) and issubclass(a, UploadFile) for a in get_args(member)
        ):
            return True
    return False


def _is_model(annotation: Any) -> bool:
    from pydantic import BaseModel

    members = _union_members(annotation)
    return len(members) == 1 and inspect.isclass(members[0]) and issubclass(members[0], BaseModel)


def _is_model_union(annotation: Any) -> bool:
    from pydantic import BaseModel

    members = _union_members(annotation)
    return len(members) > 1 and all(
        inspect.isclass(_unwrap(m)) and issubclass(_unwrap(m), BaseModel) for m in members
    )


def _is_sequence(annotation: Any) -> bool:
    for member in _union_members(annotation):
        origin = get_origin(member) or member
        if origin in (list, tuple, set, frozenset) or (
            inspect.isclass(origin)
            and issubclass(origin, typing.Sequence)
            and not issubclass(origin, (str, bytes))
        ):
            return True
    return False


_SCALARS = (str, int, float, bool, bytes, type(None))


def _is_scalar(annotation: Any) -> bool:
    """Tell whether an unmarked parameter reads from the query string rather than the body."""
    from pydantic import BaseModel

    for member in _union_members(annotation):
        if member is Any or isinstance(member, typing.TypeVar):
            continue
        origin = get_origin(member)
        if origin is typing.Literal:
            continue
        if origin is not None:
            return False
        if inspect.isclass(member):
            if issubclass(member, BaseModel) or dataclasses.is_dataclass(member):
                return False
            if issubclass(member, (dict, list, tuple, set, frozenset)):
                return False
            if typing.is_typeddict(member):
                return False
    return True


def _call_kind(call: Callable[..., Any]) -> int:
    target = call
    while isinstance(target, functools.partial):  # what the partial calls decides
        target = target.func
    if not (inspect.isfunction(target) or inspect.ismethod(target) or inspect.isclass(target)):
        target = getattr(target, "__call__", target)  # noqa: B004 - callable instances
    if inspect.isasyncgenfunction(target):
        return CALL_ASYNC_GEN
    if inspect.isgeneratorfunction(target):
        return CALL_SYNC_GEN
    if inspect.iscoroutinefunction(target):
        return CALL_ASYNC
    return CALL_SYNC


def field_info_for(spec: FieldSpec) -> FieldInfo:
    """Return the pydantic field used to validate `spec`."""
    return spec.marker.field_info(spec.default)
