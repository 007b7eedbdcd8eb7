"""The `Templates` battery: one Jinja2 environment per app, rendered asynchronously.

Templates are looked up in the app's directories first, then in packages' `templates/`
folders, then in trivium's own defaults, so a project overrides any template a battery
ships by putting a file of the same name in its directory (as Django does). Autoescaping
is on for HTML and XML files and for templates made from strings.

Rendering is async (`render_async`) so templates may await, and nothing blocks the event
loop but the first load of a file. Sync handlers cannot await: they return
`templates.response(...)`, a `TemplateResponse` rendered on the event loop when it is sent.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import jinja2
import jinja2.nodes
import jinja2.runtime

from trivium.errors import ConfigurationError
from trivium.http import HTMLResponse
from trivium.http import HTTPConnection
from trivium.plugins import Plugin
from trivium.templating._globals import TEMPLATE_GLOBALS
from trivium.templating._globals import csp_nonce_of
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["AUTOESCAPE_EXTENSIONS", "TemplateResponse", "Templates", "render"]

AUTOESCAPE_EXTENSIONS = ("html", "htm", "xml", "jinja", "html.j2", "xml.j2")
"""Template names ending in one of these are autoescaped (as are string templates)."""

TemplateName = str | jinja2.Template | Sequence[str | jinja2.Template]
StrPath = str | os.PathLike[str]


class Templates(Plugin):
    """Jinja2 templates for an app: `await templates.render(request, "page.html", {...})`.

    As a plugin (`templates.init_app(app)` or `App(plugins=[templates])`) it is what
    `render(request, ...)` uses, and it also searches the template directories other
    plugins contribute (`Plugin.template_directories`), after its own.

    Args:
        directory: the app's template directory, or several (searched in order); `None`
            for none. Relative paths are taken from the working directory.
        packages: packages whose `templates/` folder is searched after the directories
            (batteries ship templates there; the app's files override them).
        globals: extra names every template sees.
        filters: extra Jinja filters.
        auto_reload: re-read changed files; by default on in debug mode only (decided by
            `init_app`).
        enable_async: render with `render_async` (templates may call async functions).

    Raises:
        ConfigurationError: a directory does not exist (`templates-directory-missing`) or
            a package has no `templates` folder (`templates-package-missing`).
    """

    def __init__(  # noqa: PLR0913 - Jinja's options a project sets once
        self,
        directory: StrPath | Sequence[StrPath] | None = "templates",
        *,
        packages: Sequence[str] = (),
        globals: Mapping[str, Any] | None = None,
        filters: Mapping[str, Callable[..., Any]] | None = None,
        auto_reload: bool | None = None,
        enable_async: bool = True,
    ) -> None:
        loaders: list[jinja2.BaseLoader] = []
        directories = _directories(directory)
        if directories:
            loaders.append(jinja2.FileSystemLoader(directories))
        loaders.extend(_package_loader(name) for name in (*packages, "trivium.templating"))
        self.environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(AUTOESCAPE_EXTENSIONS, default_for_string=True),
            auto_reload=True if auto_reload is None else auto_reload,
            enable_async=enable_async,
        )
        """The Jinja2 environment; add globals, filters and tests to it at start-up."""
        self.environment.globals.update(TEMPLATE_GLOBALS)
        self.environment.globals.update(globals or {})
        self.environment.filters.update(filters or {})
        self._auto_reload = auto_reload

    unique = False  # `setup` refuses a second one with its own error code
    install_hint = "Templates(...).init_app(app)"

    def init_app(self, app: App, *, error_pages: bool | Sequence[int] = False) -> None:
        """Install these templates on `app` (`app.install(templates)`).

        Args:
            app: the application.
            error_pages: also install HTML error pages (`True` for the default statuses,
                or a list of statuses); see `install_error_pages`.

        Raises:
            ConfigurationError: other templates are already installed on the app
                (`templates-already-installed`).
        """
        if not any(plugin is self for plugin in app.plugins):
            app.install(self)
        if error_pages is not False:
            from trivium.templating._errors import DEFAULT_ERROR_STATUSES
            from trivium.templating._errors import install_error_pages

            statuses = DEFAULT_ERROR_STATUSES if error_pages is True else error_pages
            install_error_pages(app, self, statuses)

    def setup(self, app: App) -> None:
        """Check that the app has no other templates; follow its debug mode for reloading.

        Raises:
            ConfigurationError: other templates are already installed on the app
                (`templates-already-installed`).
        """
        if app.plugins_of(Templates):
            raise ConfigurationError(
                "the app already has templates installed; use one Templates per app "
                "(list several directories or packages in it)",
                "templates-already-installed",
            )
        if self._auto_reload is None:
            self.environment.auto_reload = app.debug

    def after_build(self, app: App) -> None:
        """Search the template directories the app's plugins contribute, after our own."""
        directories = [
            str(directory) for plugin in app.plugins for directory in plugin.template_directories()
        ]
        loader = self.environment.loader
        if directories and isinstance(loader, jinja2.ChoiceLoader):
            loader.loaders = [*loader.loaders, jinja2.FileSystemLoader(directories)]

    def install_error_pages(
        self, app: App, statuses: Sequence[int] = (400, 403, 404, 405, 500)
    ) -> None:
        """Answer errors with `errors/<status>.html` when the client prefers HTML.

        See `trivium.templating.install_error_pages`.
        """
        from trivium.templating._errors import install_error_pages

        install_error_pages(app, self, statuses)

    def get_template(self, name: TemplateName) -> jinja2.Template:
        """Return the template `name` (or the first that exists of a list of names).

        Raises:
            jinja2.TemplateNotFound: no such template in any directory or package.
        """
        try:
            if isinstance(name, (str, jinja2.Template)):
                return self.environment.get_template(name)
            return self.environment.select_template(list(name))
        except jinja2.TemplateNotFound as exc:
            if isinstance(name, jinja2.Template) or (isinstance(name, str) and exc.name != name):
                raise  # a template it extends or includes is missing: Jinja names it
            names = [name] if isinstance(name, str) else [str(n) for n in name]
            folders = ", ".join(self.search_path()) or "none"
            raise jinja2.TemplateNotFound(
                exc.name or names[0],
                message=f"template {' or '.join(map(repr, names))} not found; searched: {folders}",
            ) from None

    def search_path(self) -> list[str]:
        """Return the folders templates are looked up in, in order (for error messages)."""
        return _search_path(self.environment.loader)

    async def render_string(
        self,
        request: HTTPConnection,
        name: TemplateName,
        context: Mapping[str, Any] | None = None,
        *,
        block: str | None = None,
    ) -> str:
        """Render template `name` (or only its `block`) for `request` and return the text.

        Raises:
            LookupError: the template has no block called `block`.
        """
        template = self.get_template(name)
        variables = {"csp_nonce": csp_nonce_of(request), **(context or {}), "request": request}
        if block is not None:
            return await _render_block(template, block, variables)
        if self.environment.is_async:
            return await template.render_async(variables)
        return template.render(variables)

    async def render(  # noqa: PLR0913 - FastAPI's TemplateResponse options plus `block`
        self,
        request: HTTPConnection,
        name: TemplateName,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        block: str | None = None,
    ) -> HTMLResponse:
        """Render template `name` into an HTML response.

        The template sees `context`, `request`, `csp_nonce` and the functions `url_for`,
        `static_url`, `csrf_token`, `csrf_input` and `get_flashed_messages`. With `block`,
        only that `{% block %}` is rendered (for htmx-style partial updates).

        Raises:
            jinja2.TemplateNotFound: no such template.
            LookupError: the template has no block called `block`.
        """
        text = await self.render_string(request, name, context, block=block)
        return HTMLResponse(text, status_code, headers)

    def response(  # noqa: PLR0913 - the options of `render`
        self,
        request: HTTPConnection,
        name: TemplateName,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        block: str | None = None,
    ) -> TemplateResponse:
        """Return a response rendered when it is sent: the way for sync (`def`) handlers."""
        return TemplateResponse(
            self, request, name, context, status_code=status_code, headers=headers, block=block
        )


class TemplateResponse(HTMLResponse):
    """An HTML response whose template is rendered on the event loop as it is sent.

    Made by `Templates.response`, for `def` handlers, which run in a worker thread and
    cannot await `Templates.render`. A rendering error still becomes an error response,
    since nothing has been sent yet.
    """

    __slots__ = ("_pending",)

    def __init__(  # noqa: PLR0913 - the options of `Templates.render`
        self,
        templates: Templates,
        request: HTTPConnection,
        name: TemplateName,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        block: str | None = None,
    ) -> None:
        super().__init__(None, status_code, headers)
        self._pending: tuple[Templates, HTTPConnection, TemplateName, Any, str | None] | None = (
            templates,
            request,
            name,
            context,
            block,
        )

    async def prepare(self) -> None:
        """Render the body now (done for you when the response is sent)."""
        if self._pending is None:
            return
        templates, request, name, context, block = self._pending
        self._pending = None
        self.body = self.render(await templates.render_string(request, name, context, block=block))
        length = str(len(self.body)).encode()
        self.raw_headers[:] = [
            (key, length if key == b"content-length" else value) for key, value in self.raw_headers
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Render, then send the response."""
        await self.prepare()
        await super().__call__(scope, receive, send)


async def render(  # noqa: PLR0913 - the options of `Templates.render`
    request: HTTPConnection,
    name: TemplateName,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    block: str | None = None,
) -> HTMLResponse:
    """Render `name` with the templates installed on the request's app (`init_app`).

    Raises:
        ConfigurationError: the app has no templates (`templates-not-installed`).
    """
    found = request.app.plugins_of(Templates)
    templates = found[0] if found else None
    if templates is None:
        raise ConfigurationError(
            "render() needs templates installed on the app: call "
            "Templates(...).init_app(app) at start-up",
            "templates-not-installed",
        )
    return await templates.render(
        request, name, context, status_code=status_code, headers=headers, block=block
    )


async def _render_block(template: jinja2.Template, block: str, variables: dict[str, Any]) -> str:
    context = template.new_context(variables)
    environment = template.environment
    chain = _inheritance_chain(template)
    for parent in chain[1:]:
        # Rendering the whole template registers the parents' blocks as `{% extends %}`
        # runs: a block rendered alone needs them for `super()` and inherited blocks.
        for name, function in parent.blocks.items():
            context.blocks.setdefault(name, []).append(function)
    functions = context.blocks.get(block)
    if not functions:
        known = ", ".join(sorted(context.blocks)) or "none"
        raise LookupError(
            f"template {template.name!r} has no block {block!r} (its blocks: {known})"
        )
    try:
        # The top-level `{% set %}`, `{% import %}`, `{% from %}` and `{% macro %}` of the
        # template and its layouts run first (child first, as in a full render), so the
        # block sees the names they define.
        for item in chain:
            setup = _top_level_of(item)[1]
            if setup is None:
                continue
            if environment.is_async:
                async for _ in setup.root_render_func(context):  # type: ignore[attr-defined]
                    pass
            else:
                for _ in setup.root_render_func(context):
                    pass
        if environment.is_async:
            parts = [part async for part in functions[0](context)]  # type: ignore[attr-defined]
        else:
            parts = list(functions[0](context))
        return environment.concat(parts)
    except Exception:  # noqa: BLE001 - Jinja rewrites the traceback to point at the template
        return environment.handle_exception()


_TopLevel = tuple[str | None, jinja2.Template | None]
_TOP_LEVEL: weakref.WeakKeyDictionary[jinja2.Template, _TopLevel] = weakref.WeakKeyDictionary()

# Statements that print (or render a block) are left out of a template's top-level code;
# these hold statements whose own bodies run at the top level and are searched in turn.
_NESTED_BODIES = (
    jinja2.nodes.If,
    jinja2.nodes.For,
    jinja2.nodes.With,
    jinja2.nodes.Scope,
    jinja2.nodes.ScopedEvalContextModifier,
)
_PRINTING = (
    jinja2.nodes.Output,
    jinja2.nodes.Block,
    jinja2.nodes.Extends,
    jinja2.nodes.Include,
    jinja2.nodes.CallBlock,
    jinja2.nodes.FilterBlock,
)


def _top_level_of(template: jinja2.Template) -> _TopLevel:
    """Return the name `template` extends (when constant) and its top-level code alone.

    The code is the template's top-level statements without output (sets, imports,
    macros...), compiled once into a template that prints nothing; `None` if it has none
    or its source cannot be read (a template made from a string).
    """
    try:
        return _TOP_LEVEL[template]
    except KeyError:
        pass
    environment = template.environment
    found: _TopLevel = (None, None)
    if template.name is not None and environment.loader is not None:
        source = environment.loader.get_source(environment, template.name)[0]
        tree = environment.parse(source, template.name, template.filename)
        extends = tree.find(jinja2.nodes.Extends)
        parent = None
        if extends is not None and isinstance(extends.template, jinja2.nodes.Const):
            parent = str(extends.template.value)
        setup = None
        tree.body = _without_output(tree.body)
        if tree.body:
            code = environment.compile(tree, template.name, template.filename)
            setup = environment.template_class.from_code(environment, code, template.globals)
        found = (parent, setup)
    _TOP_LEVEL[template] = found
    return found


def _without_output(body: list[jinja2.nodes.Node]) -> list[jinja2.nodes.Node]:
    kept: list[jinja2.nodes.Node] = []
    for node in body:
        if isinstance(node, _PRINTING):
            continue
        if isinstance(node, _NESTED_BODIES):
            for field in ("body", "else_", "elif_"):
                value = getattr(node, field, None)
                if isinstance(value, list):
                    setattr(node, field, _without_output(value))
        kept.append(node)
    return kept


def _inheritance_chain(template: jinja2.Template) -> list[jinja2.Template]:
    """Return `template` and the layouts it `{% extends %}`, most derived first."""
    chain = [template]
    seen = {template.name}
    name = _top_level_of(template)[0]
    while name is not None and name not in seen:
        seen.add(name)
        parent = template.environment.get_template(name, chain[-1].name)
        chain.append(parent)
        name = _top_level_of(parent)[0]
    return chain


def _directories(directory: StrPath | Sequence[StrPath] | None) -> list[Path]:
    if directory is None:
        return []
    items = [directory] if isinstance(directory, (str, os.PathLike)) else list(directory)
    paths = [Path(item) for item in items]
    for path in paths:
        if not path.is_dir():
            raise ConfigurationError(
                f"template directory {str(path)!r} does not exist (from "
                f"{Path.cwd()}); create it, or pass directory=None to use packages only",
                "templates-directory-missing",
            )
    return paths


def _package_loader(name: str) -> jinja2.PackageLoader:
    try:
        return jinja2.PackageLoader(name, "templates")
    except (ImportError, ValueError) as exc:
        raise ConfigurationError(
            f"package {name!r} has no 'templates' folder to load templates from ({exc})",
            "templates-package-missing",
        ) from exc


def _search_path(loader: jinja2.BaseLoader | None) -> list[str]:
    if isinstance(loader, jinja2.ChoiceLoader):
        return [path for inner in loader.loaders for path in _search_path(inner)]
    if isinstance(loader, jinja2.FileSystemLoader):
        return [str(Path(path).resolve()) for path in loader.searchpath]
    if isinstance(loader, jinja2.PackageLoader):
        return [f"{loader.package_name}:{loader.package_path}"]
    return [type(loader).__name__] if loader is not None else []
