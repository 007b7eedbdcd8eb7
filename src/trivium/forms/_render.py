"""Render forms with Jinja2 templates shipped in the package and overridable by the app.

The package's templates live in `trivium/forms/templates/forms/`. A `FormRenderer` looks
in the app's directories first, so an app overrides `forms/field.html` (or any widget)
by putting a file of that name in its own templates folder. Rendering is synchronous
(a form is drawn inside a page template through `__html__`), so an async environment
given to the renderer is used through a synchronous overlay sharing its loader.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import MissingDependencyError

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

__all__ = ["FormRenderer", "default_renderer", "html_attrs"]


def html_attrs(attrs: Mapping[str, Any]) -> Markup:
    """Return `attrs` as escaped HTML attributes, each preceded by a space.

    `True` draws a bare attribute (`required`), `False` and `None` leave it out.
    """
    from markupsafe import Markup
    from markupsafe import escape

    parts = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(f" {escape(name)}")
        else:
            parts.append(f' {escape(name)}="{escape(value)}"')
    return Markup("".join(parts))  # noqa: S704 - every part is escaped above


class FormRenderer:
    """Draw forms and fields with Jinja2 templates.

    Example:
        ```python
        renderer = FormRenderer(["templates"])  # templates/forms/field.html overrides ours


        class ArticleForm(Form):
            form_renderer = renderer
            title: str
        ```
    """

    __slots__ = ("environment",)

    def __init__(
        self,
        directories: Sequence[str | os.PathLike[str]] = (),
        *,
        environment: jinja2.Environment | None = None,
    ) -> None:
        """Look templates up in `directories`, then `environment`'s loader, then the package.

        Args:
            directories: Folders searched first for `forms/*.html`.
            environment: An app's Jinja2 environment (for example the one of
                `trivium.templating.Templates`) whose loader, filters and globals the
                forms share; an async environment is used through a sync overlay.

        Raises:
            MissingDependencyError: Jinja2 is not installed.
        """
        try:
            import jinja2
        except ImportError:  # pragma: no cover - jinja2 ships with the dev extras
            raise MissingDependencyError("jinja2", "templates") from None
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(d) for d in directories]
        if environment is not None and environment.loader is not None:
            loaders.append(environment.loader)
        loaders.append(jinja2.PackageLoader("trivium.forms", "templates"))
        loader = jinja2.ChoiceLoader(loaders)
        if environment is None:
            env = jinja2.Environment(
                loader=loader,
                autoescape=True,
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
        else:
            env = environment.overlay(
                loader=loader,
                enable_async=False,
                autoescape=True,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.filters = dict(env.filters)
        env.filters["html_attrs"] = html_attrs
        self.environment: jinja2.Environment = env
        """The (synchronous) environment the form templates are rendered with."""

    def render(self, template_name: str, context: Mapping[str, Any]) -> Markup:
        """Render `template_name` with `context` and return safe HTML."""
        from markupsafe import Markup

        template = self.environment.get_template(template_name)
        return Markup(template.render(context).strip())  # noqa: S704 - autoescaped output


@functools.cache
def default_renderer() -> FormRenderer:
    """Return the renderer that uses only the package's templates (made on first use)."""
    return FormRenderer()
