"""The app a server runs: parsing an import string, importing it, and what it speaks.

`serve` checks its target here before any port is bound: the import string's form, the
module and attribute, a factory's result, that the object is an ASGI or RSGI app and not
a factory by mistake, and that a trivium app builds. With reload or several workers the
check runs in a child interpreter (`probe_in_child`), so the supervising process never
holds the app's modules.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

from trivium.errors import ConfigurationError
from trivium.errors import describe_exception

__all__ = [
    "AppFacts",
    "ImportString",
    "app_facts",
    "describe_exception",
    "describe_object",
    "load",
    "parse_import_string",
    "probe_in_child",
    "probe_main",
]

_PROBE_MARK = "trivium-probe:"
_PROBE_TIMEOUT = 120.0
_PROBE_CODE = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from trivium.protocols._target import probe_main; probe_main(sys.argv[2])"
)


class ImportString(NamedTuple):
    module: str
    attribute: str
    factory: bool

    def __str__(self) -> str:
        return f"{self.module}:{self.attribute}{'()' if self.factory else ''}"


class AppFacts(NamedTuple):
    rsgi: bool
    asgi: bool


def parse_import_string(value: str) -> ImportString:
    module, _, attribute = value.strip().partition(":")
    factory = attribute.endswith("()")
    attribute = attribute.removesuffix("()")
    parts = [*module.split("."), *attribute.split(".")]
    if not all(part.isidentifier() for part in parts):
        raise ConfigurationError(
            f"{value!r} is not an import string; write 'module:attribute' such as 'main:app', "
            "or 'module:function()' for a function that returns the app.",
            code="server.bad-import-string",
        )
    return ImportString(module, attribute, factory)


def load(spec: ImportString) -> object:
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not f"{spec.module}.".startswith(f"{exc.name}."):
            raise _import_failed(spec, exc) from exc
        raise ConfigurationError(
            f"Could not import module {spec.module!r} for {str(spec)!r}: no module named "
            f"{exc.name!r}. Check the spelling, and run from the directory that contains it "
            f"(the current one is {Path.cwd()}).",
            code="server.import-failed",
        ) from None
    except Exception as exc:
        raise _import_failed(spec, exc) from exc
    found: object = module
    for name in spec.attribute.split("."):
        if not hasattr(found, name):
            raise ConfigurationError(
                f"Module {spec.module!r} has no attribute {spec.attribute!r}; name the "
                f"variable that holds the app, as in '{spec.module}:app'.",
                code="server.attribute-missing",
            )
        found = getattr(found, name)
    if not spec.factory:
        return found
    if not callable(found) or hasattr(found, "__rsgi__") or _is_asgi_instance(found):
        raise ConfigurationError(
            f"{str(spec)!r} calls {spec.attribute!r}, which is "
            f"{'an app, not a factory' if callable(found) else 'not a function'}; drop the '()'.",
            code="server.not-an-app",
        )
    try:
        return found()
    except Exception as exc:
        raise ConfigurationError(
            f"The factory {str(spec)!r} raised {describe_exception(exc)}.",
            code="server.import-failed",
        ) from exc


def _is_asgi_instance(found: object) -> bool:
    """An object (no function, no class) whose `__call__` takes `(scope, receive, send)`."""
    import inspect

    if inspect.isroutine(found) or inspect.isclass(found):
        return False
    try:
        parameters = inspect.signature(found).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return len(parameters) == 3


def _import_failed(spec: ImportString, exc: BaseException) -> ConfigurationError:
    return ConfigurationError(
        f"Importing module {spec.module!r} raised {describe_exception(exc)}; fix the error "
        "in that module.",
        code="server.import-failed",
    )


def describe_object(target: object) -> str:
    kind = type(target)
    return f"the {kind.__module__}.{kind.__qualname__} object"


def app_facts(app: object, label: str) -> AppFacts:
    # A class may define `__rsgi__`, but only its instances are apps.
    rsgi = hasattr(app, "__rsgi__") and not inspect.isclass(app)
    if not rsgi and (inspect.isroutine(app) or inspect.isclass(app)) and not _takes_asgi(app):
        raise _a_factory(app, label)
    facts = AppFacts(rsgi=rsgi, asgi=callable(app) and _takes_asgi(app))
    if not (facts.rsgi or facts.asgi):
        raise ConfigurationError(
            f"{label!r} is of type {type(app).__qualname__}, not an ASGI or RSGI app; point "
            "the import string at the app (for example 'main:app').",
            code="server.not-an-app",
        )
    _build(app, label)
    return facts


def _a_factory(app: object, label: str) -> ConfigurationError:
    kind = "class" if inspect.isclass(app) else "function"
    if label.endswith("()"):
        problem = f"{label!r} returns a {kind}, not an app; return the app itself."
    elif ":" in label:
        problem = (
            f"{label!r} is a {kind}, not an app: did you mean '{label}()'? An import "
            "string ending in '()' calls a function that returns the app."
        )
    else:
        name = f"{getattr(app, '__module__', '?')}.{getattr(app, '__qualname__', '?')}"
        problem = f"{name} is a {kind}, not an app: did you mean to pass its result, {name}()?"
    return ConfigurationError(problem, code="server.not-an-app")


def _takes_asgi(app: object) -> bool:
    """Return whether `app` can be called as `app(scope, receive, send)`.

    A function (or class) whose parameters cannot take three positional arguments, or
    that needs none (`def create_app(settings=None)`), is a factory or a mistake: served,
    every request would fail with a TypeError. A callable whose signature cannot be read
    (a builtin, an extension type) is taken at its word.
    """
    try:
        signature = inspect.signature(app)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
    parameters = list(signature.parameters.values())
    if any(parameter.kind is parameter.VAR_POSITIONAL for parameter in parameters):
        return True
    try:
        signature.bind(None, None, None)
    except TypeError:
        return False
    return any(parameter.default is parameter.empty for parameter in parameters)


def _build(app: object, label: str) -> None:
    """Compile a trivium app before any port is bound, so its mistakes stop the launch.

    Otherwise the server would print that it listens and its workers would then die
    one after another on the same error.
    """
    build = getattr(app, "build", None)
    if not callable(build) or not hasattr(app, "plugins"):
        return
    try:
        build()
    except ConfigurationError:
        raise
    except Exception as exc:
        raise ConfigurationError(
            f"Building {label} raised {describe_exception(exc)}.",
            code="server.build-failed",
        ) from exc


def probe_in_child(spec: ImportString, *, bytecode: bool = True) -> AppFacts:
    flags = [] if bytecode else ["-B"]  # -B: writes no .pyc (see the reload in _server.py)
    argv = [sys.executable, *flags, "-c", _PROBE_CODE, json.dumps(sys.path), str(spec)]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code, no shell
            argv, capture_output=True, text=True, timeout=_PROBE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise ConfigurationError(
            f"Importing {str(spec)!r} took longer than {_PROBE_TIMEOUT:.0f} s; move slow work "
            "out of import time (into the lifespan).",
            code="server.import-failed",
        ) from None
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(_PROBE_MARK):
            result = json.loads(line.removeprefix(_PROBE_MARK))
            if "error" in result:
                raise ConfigurationError(result["error"], code=result["code"])
            return AppFacts(rsgi=result["rsgi"], asgi=result["asgi"])
    stderr = done.stderr.strip().splitlines()
    raise ConfigurationError(
        f"Importing {str(spec)!r} ended the process with status {done.returncode}"
        f"{': ' + stderr[-1] if stderr else ''}; run 'python -c \"import {spec.module}\"' "
        "to see the full error.",
        code="server.import-failed",
    )


def probe_main(import_string: str) -> None:
    """Check `import_string` and print the result; the body of the probe subprocess."""
    try:
        facts = app_facts(load(parse_import_string(import_string)), import_string)
        result: dict[str, object] = {"rsgi": facts.rsgi, "asgi": facts.asgi}
    except ConfigurationError as exc:
        result = {"error": exc.message, "code": exc.code}
    sys.stdout.write(f"\n{_PROBE_MARK}{json.dumps(result)}\n")
    sys.stdout.flush()
