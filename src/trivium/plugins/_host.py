"""`PluginHost`: the plugin registry part of `App` (install, look-up, build-time hooks).

Kept apart from `app.py` so the app module stays about serving; `App` inherits it.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

from trivium.errors import ConfigurationError
from trivium.plugins._plugin import Observer
from trivium.plugins._plugin import Plugin
from trivium.plugins._plugin import RequestStep
from trivium.plugins._plugin import RouteNeeds

__all__ = ["PluginHost"]

P = TypeVar("P", bound=Plugin)

# The batteries that read the route options `RouteOptions` names, for the error that
# says what to install (names only: the core never imports a battery).
_BATTERY_OPTIONS = {
    "cache": "trivium.cache.Cache",
    "rate_limit": "trivium.ratelimit.RateLimits",
    "mcp": "trivium.ai's MCP plugin",
}


class PluginHost:
    """The plugins of an app; see `trivium.plugins.Plugin` and docs/plugins.md."""

    _asgi: Any
    dependency_overrides: Any
    docs_config: Any
    routes: list[Any]
    include_router: Any

    def _init_plugins(self) -> None:
        self._plugins: list[Plugin] = []
        self._plugins_built = False  # every `on_build` ran: `after_build` hooks run, no installs
        self._providers: dict[Callable[..., Any], Callable[..., Any]] = {}

    def install(self, plugin: Plugin) -> None:
        """Install `plugin`: its `setup(app)` runs now, its other hooks when the app is built.

        Raises:
            ConfigurationError: the app already started (`plugin-after-start`), `plugin`
                is not a `Plugin` (`plugin-invalid`), or it (or another of its class,
                for plugins that allow one per app) is installed already
                (`plugin-duplicate`).
        """
        given: object = plugin  # typed as a Plugin; checked here all the same
        if not isinstance(given, Plugin):
            if isinstance(given, type) and issubclass(given, Plugin):
                name = given.__name__
                problem = f"{name} is a plugin class: install an instance, {name}(...)"
            else:
                problem = f"{given!r} is not a plugin: subclass trivium.plugins.Plugin"
            raise ConfigurationError(problem, "plugin-invalid")
        if self._asgi is not None:
            raise ConfigurationError(
                f"{type(plugin).__name__} cannot be installed after the app has started; "
                "install it before the first request (or pass plugins=[...] to App)",
                "plugin-after-start",
            )
        if self._plugins_built:
            raise ConfigurationError(
                f"{type(plugin).__name__} was installed from an after_build() hook, after the "
                "plugins were built: install it in on_build() or setup() instead",
                "plugin-after-start",
            )
        for installed in self._plugins:
            if installed is plugin or (plugin.unique and type(installed) is type(plugin)):
                raise ConfigurationError(
                    f"this app already has a {type(plugin).__name__}; install it once",
                    "plugin-duplicate",
                )
        plugin.setup(self)  # type: ignore[arg-type]
        self._plugins.append(plugin)

    @property
    def plugins(self) -> tuple[Plugin, ...]:
        """The installed plugins, in installation order."""
        return tuple(self._plugins)

    def plugins_of(self, cls: type[P]) -> list[P]:
        """Return the installed plugins that are instances of `cls`, in installation order."""
        return [plugin for plugin in self._plugins if isinstance(plugin, cls)]

    def plugin(self, cls: type[P]) -> P:
        """Return the app's plugin of class `cls` (typed: `app.plugin(Auth)` is an `Auth`).

        Raises:
            ConfigurationError: none is installed (`plugin-not-installed`, saying how to
                install one), or several are (`plugin-ambiguous`: use `plugins_of`).
            TypeError: `cls` is not a plugin class (a name, an instance).
        """
        if not (isinstance(cls, type) and issubclass(cls, Plugin)):
            raise TypeError(f"app.plugin() takes a plugin class (app.plugin(Auth)), not {cls!r}")
        found = self.plugins_of(cls)
        if len(found) == 1:
            return found[0]
        name = cls.__name__
        if not found:
            hint = cls.install_hint or f"app.install({name}(...)) or App(plugins=[{name}(...)])"
            raise ConfigurationError(
                f"this app has no {name}; install one with {hint}", "plugin-not-installed"
            )
        raise ConfigurationError(
            f"this app has {len(found)} {name} plugins; pick one from app.plugins_of({name})",
            "plugin-ambiguous",
        )

    def request_steps(self, needs: RouteNeeds) -> list[RequestStep]:
        """Return the steps the plugins compile into a route with `needs`, in run order.

        Raises:
            ConfigurationError: a route option no installed plugin reads.
        """
        if needs.options:
            self._check_route_options(needs)
        steps = [step for plugin in self._plugins for step in plugin.request_steps(needs)]
        steps.sort(key=lambda step: step.order)
        return steps

    def observers(self, needs: RouteNeeds) -> list[Observer]:
        """Return the observers the plugins give a route with `needs`, in plugin order."""
        return [observer for plugin in self._plugins for observer in plugin.observers(needs)]

    def _check_route_options(self, needs: RouteNeeds) -> None:
        claimed = {name for plugin in self._plugins for name in plugin.route_options}
        for name in needs.options:
            if name in claimed:
                continue
            battery = _BATTERY_OPTIONS.get(name)
            close = difflib.get_close_matches(name, sorted(claimed), n=1)
            if battery:
                fix = f"install {battery} (app.install(...))"
            elif close:
                fix = f"did you mean {close[0]!r}? (an installed plugin reads that one)"
            else:
                fix = "install the plugin that reads it, or remove the option"
            raise ConfigurationError(
                f"route {needs.path!r}: option {name!r} is read by no installed plugin; {fix}",
                "route-option-unclaimed",
            )

    def effective_overrides(self) -> Mapping[Callable[..., Any], Callable[..., Any]]:
        """The plugins' dependency providers overlaid with `dependency_overrides` (which win)."""
        overrides: Mapping[Callable[..., Any], Callable[..., Any]] = self.dependency_overrides
        if not self._providers:
            return overrides
        return {**self._providers, **overrides}

    def _build_plugins(self) -> None:
        if self.docs_config.openapi_url:
            # The docs battery is loaded by name only when the app serves docs, so the
            # core stays free of it (see docs/openapi.md).
            openapi = importlib.import_module("trivium.openapi")
            if not self.plugins_of(openapi.OpenAPI):
                self.install(openapi.OpenAPI())
        index = 0
        while index < len(self._plugins):  # `on_build` may install further plugins
            self._plugins[index].on_build(self)  # type: ignore[arg-type]
            index += 1
        # Every plugin is installed and built now: what reads the others runs here.
        self._plugins_built = True
        for plugin in self._plugins:
            plugin.after_build(self)  # type: ignore[arg-type]
        from trivium.routing._route import BaseRoute

        for plugin in self._plugins:
            for item in plugin.routes(self):  # type: ignore[arg-type]
                if isinstance(item, BaseRoute):
                    self.routes.append(item)
                else:
                    self.include_router(item)
            self._providers.update(plugin.providers(self))  # type: ignore[arg-type]
