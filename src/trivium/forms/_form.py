"""Binding a model to submitted data, and the `Form` base class that offers it as methods.

Any pydantic model works as a form through the functions (`bind(ArticleModel, data)`);
a `Form` subclass is a pydantic model with the same operations as class methods
(`ArticleForm.bind(data)`, `await ArticleForm.from_request(request)`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Self
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ValidationError

from trivium.forms._binding import collect
from trivium.forms._binding import split_errors
from trivium.forms._bound import BoundForm
from trivium.forms._bound import initial_values
from trivium.forms._fields import form_fields
from trivium.forms._render import FormRenderer
from trivium.http import Request

if TYPE_CHECKING:
    from trivium.http import HTTPConnection

__all__ = ["Form", "bind", "depends", "empty", "from_request"]

M = TypeVar("M", bound=BaseModel)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bind(
    model: type[M],
    data: Mapping[str, Any],
    *,
    request: HTTPConnection | None = None,
    renderer: FormRenderer | None = None,
) -> BoundForm[M]:
    """Validate submitted `data` (a `FormData` or a dict) against `model`.

    Args:
        model: The pydantic model describing the form.
        data: The submitted fields; repeated keys come from `getlist` when available.
        request: The request, so the form draws the session's CSRF token.
        renderer: Draw with this renderer rather than the model's or the default one.
    """
    specs = form_fields(model)
    found = collect(specs, data)
    try:
        instance = model.model_validate(found.inputs)
    except ValidationError as exc:
        errors, general = split_errors(specs, exc)
        return BoundForm(
            model,
            values=found.kept,
            initials=found.initials,
            errors=errors,
            non_field_errors=general,
            request=request,
            renderer=renderer,
        )
    return BoundForm(
        model,
        values=found.kept,
        initials=found.initials,
        instance=instance,
        request=request,
        renderer=renderer,
    )


def empty(
    model: type[M],
    initial: Any = None,
    *,
    request: HTTPConnection | None = None,
    renderer: FormRenderer | None = None,
) -> BoundForm[M]:
    """Return an unbound form showing `initial` values over the model's defaults.

    Args:
        model: The pydantic model describing the form.
        initial: A mapping of field values, or an object (a model instance, a database
            row) whose attributes of the same names fill the form (an edit page).
        request: The request, so the form draws the session's CSRF token.
        renderer: Draw with this renderer rather than the model's or the default one.
    """
    values, initials = initial_values(model, initial)
    return BoundForm(
        model,
        values=values,
        initials=initials,
        bound=False,
        request=request,
        renderer=renderer,
    )


async def from_request(model: type[M], request: Request, *, initial: Any = None) -> BoundForm[M]:
    """Bind the form posted in `request`; a GET (or HEAD) gives the unbound form instead.

    Raises:
        HTTPException: the body is not a form (415), or breaks the form limits (400/413).
    """
    if request.method in _SAFE_METHODS:
        return empty(model, initial, request=request)
    data = await request.form()
    return bind(model, data, request=request)


@functools.cache
def depends(model: type[M]) -> Callable[[Request], Awaitable[BoundForm[M]]]:
    """Return a dependency giving handlers the form bound to the request.

    Example:
        ```python
        @app.route("/signup", methods=["GET", "POST"])
        async def signup(form: Annotated[BoundForm[Signup], Depends(depends(Signup))]): ...
        ```
    """

    async def bound_form(request: Request) -> BoundForm[M]:
        return await from_request(model, request)

    bound_form.__qualname__ = f"{model.__qualname__}.depends"
    return bound_form


class Form(BaseModel):
    """A pydantic model that is also a form.

    Example:
        ```python
        class ArticleForm(Form):
            title: Annotated[str, Field(max_length=100)]
            body: Annotated[str, Textarea(rows=8)]
            published: bool = False


        form = ArticleForm.bind({"title": "Hello", "body": "..."})
        assert form.is_valid and form.data.published is False
        ```
    """

    form_renderer: ClassVar[FormRenderer | None] = None
    """The renderer drawing this form (`None`: the package templates)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Read the fields when the class is defined, so a bad field fails at import.

        Raises:
            ConfigurationError: a field has no HTML widget (see `form_fields`).
        """
        super().__pydantic_init_subclass__(**kwargs)
        form_fields(cls)

    @classmethod
    def bind(
        cls, data: Mapping[str, Any], *, request: HTTPConnection | None = None
    ) -> BoundForm[Self]:
        """Validate submitted `data`; see `trivium.forms.bind`."""
        return bind(cls, data, request=request)

    @classmethod
    def empty(
        cls, initial: Any = None, *, request: HTTPConnection | None = None
    ) -> BoundForm[Self]:
        """Return the unbound form showing `initial`; see `trivium.forms.empty`."""
        return empty(cls, initial, request=request)

    @classmethod
    async def from_request(cls, request: Request, *, initial: Any = None) -> BoundForm[Self]:
        """Bind the form posted in `request` (unbound for a GET); see `from_request`."""
        return await from_request(cls, request, initial=initial)

    @classmethod
    def depends(cls) -> Callable[[Request], Awaitable[BoundForm[Self]]]:
        """Return a dependency giving handlers this form bound to the request."""
        return depends(cls)
