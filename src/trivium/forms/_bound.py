"""Bound forms: submitted (or initial) values, validation results and HTML for one form.

A `BoundForm` pairs a model class with the values to show, the errors found and, when
valid, the validated model instance. `{{ form }}` draws its fields; `{{ form.title }}`
draws one field's row, `{{ form.title.label }}`, `{{ form.title.widget }}` and
`{{ form.title.errors }}` its parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import TypeVar

from pydantic import BaseModel

from trivium.forms._binding import display_value
from trivium.forms._fields import FieldSpec
from trivium.forms._fields import form_fields
from trivium.forms._render import FormRenderer
from trivium.forms._render import default_renderer
from trivium.forms._render import html_attrs
from trivium.forms._text import initial_text

if TYPE_CHECKING:
    from markupsafe import Markup

    from trivium.http import HTTPConnection

__all__ = ["BoundField", "BoundForm", "ErrorList"]

M = TypeVar("M", bound=BaseModel)

_NO_BODY_METHODS = frozenset({"get", "dialog"})
"""Form methods sending no request body: no CSRF input (`dialog` sends nothing at all)."""


class ErrorList(list[str]):
    """The error messages of a field (or of the whole form); renders as a `<ul>`."""

    def __init__(self, messages: list[str], *, id: str, renderer: FormRenderer) -> None:
        super().__init__(messages)
        self.id = id
        """The `id` of the list, referenced by the field's `aria-describedby`."""
        self.renderer = renderer

    def __html__(self) -> str:
        if not self:
            return ""
        return self.renderer.render("forms/errors.html", {"errors": self, "id": self.id})


class BoundField:
    """One field of a bound form: its value, errors and HTML."""

    __slots__ = ("errors", "form", "spec", "value")

    def __init__(self, form: BoundForm[Any], spec: FieldSpec) -> None:
        self.form = form
        self.spec = spec
        self.value: Any = form.values.get(spec.name)
        """The value shown in the widget (text, a list of texts, or a bool for checkboxes)."""
        self.errors = ErrorList(
            form.errors.get(spec.name, []), id=f"{self.id}-errors", renderer=form.renderer
        )
        """The messages of this field (empty when it is valid or unbound)."""

    @property
    def name(self) -> str:
        """The model attribute."""
        return self.spec.name

    @property
    def html_name(self) -> str:
        """The `name` of the input."""
        return self.spec.html_name

    @property
    def id(self) -> str:
        """The `id` of the input (`id_<name>`)."""
        return f"id_{self.spec.html_name}"

    @property
    def label_text(self) -> str:
        """The label (the field's `title`, or its name made readable)."""
        return self.spec.label

    @property
    def help_text(self) -> str | None:
        """The field's `description`, shown under the input."""
        return self.spec.help_text

    @property
    def required(self) -> bool:
        """Whether the field must be filled in."""
        return self.spec.required

    @property
    def multiple(self) -> bool:
        """Whether the field holds several values."""
        return self.spec.multiple

    @property
    def constraints(self) -> dict[str, Any]:
        """HTML attributes from the field's constraints (`maxlength`, `min`, `max`, `step`)."""
        return self.spec.constraints

    @property
    def checked(self) -> bool:
        """Whether a checkbox is ticked."""
        return bool(self.value) and self.value is not False

    @property
    def choices(self) -> list[tuple[str, str, bool]]:
        """The `(value, label, selected)` triples of a choice field."""
        selected = self.value if isinstance(self.value, list) else [self.value]
        chosen = {str(v) for v in selected if v is not None}
        return [(text, label, text in chosen) for text, label in self.spec.options]

    @property
    def initial(self) -> str | None:
        """The exact initial value of a date-time its input cannot show whole, as ISO text.

        An aware value (shown in UTC) or one with sub-millisecond digits; `None` otherwise.
        """
        return self.form.initials.get(self.spec.name)

    @property
    def hidden_initial(self) -> Markup:
        """The hidden input carrying `initial` (empty without one); part of `widget`."""
        from markupsafe import Markup

        initial = self.initial
        if initial is None or self.spec.initial_name is None:
            return Markup("")
        attrs = {"type": "hidden", "name": self.spec.initial_name, "value": initial}
        return Markup("<input{}>").format(html_attrs(attrs))

    @property
    def label(self) -> Markup:
        """The `<label>` element."""
        return self.form.renderer.render("forms/label.html", {"field": self})

    @property
    def widget(self) -> Markup:
        """The input element(s) alone."""
        widget = self.spec.widget
        html = self.form.renderer.render(widget.template_name, widget.get_context(self))
        hidden = self.hidden_initial
        return html + "\n" + hidden if hidden else html

    def __html__(self) -> str:
        return self.form.renderer.render("forms/field.html", {"field": self})

    def __str__(self) -> str:
        return self.__html__()

    def __repr__(self) -> str:
        return f"<BoundField {self.name}={self.value!r}>"


class BoundForm(Generic[M]):
    """A form filled with submitted or initial values.

    `is_valid` tells whether the submitted values validated; then `data` is the model
    instance. Otherwise `errors` maps field names to messages and `values` keeps what was
    typed, so the page can be drawn again (passwords and files are not kept).

    In a handler, `form: BoundForm[ArticleForm]` reads and binds the submitted form (a
    `Form()` parameter of the model, read through a dependency taking the request: the
    route gets the session and CSRF steps) and never answers 422 by itself.

    A field named like an attribute (`data`, `errors`, `model`...) is `form["data"]`.
    """

    def __init__(  # noqa: PLR0913 - the parts of a bound form, passed by keyword
        self,
        model: type[M],
        *,
        values: dict[str, Any],
        initials: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
        non_field_errors: list[str] | None = None,
        instance: M | None = None,
        bound: bool = True,
        request: HTTPConnection | None = None,
        renderer: FormRenderer | None = None,
    ) -> None:
        self.model = model
        """The model (form) class."""
        self.values = values
        """The values shown in the widgets, by field name."""
        self.initials: dict[str, str] = initials or {}
        """The exact initial values of the date-times their inputs cannot show whole.

        By field name, as ISO text; each is drawn as a hidden input next to its field, so
        that the text sent back unchanged binds that exact value.
        """
        self.is_bound = bound
        """Whether the form holds submitted data (rather than initial values)."""
        self.request = request
        """The request the form belongs to (for the CSRF token)."""
        self.renderer: FormRenderer = (
            renderer or getattr(model, "form_renderer", None) or default_renderer()
        )
        """The renderer that draws the form."""
        self.errors: dict[str, list[str]] = errors or {}
        """The messages of each invalid field, by field name."""
        self.non_field_errors = ErrorList(
            non_field_errors or [], id="form-errors", renderer=self.renderer
        )
        """The messages about the form as a whole (model validators)."""
        self._instance = instance
        self._fields = {spec.name: spec for spec in form_fields(model)}
        self._csrf = True
        """Whether `{{ form }}` draws the CSRF field: not inside a GET form's `render()`."""

    @property
    def is_valid(self) -> bool:
        """Whether the submitted data validated (always `False` for an unbound form)."""
        return (
            self.is_bound
            and self._instance is not None
            and not self.errors
            and not self.non_field_errors
        )

    @property
    def data(self) -> M:
        """The validated model instance.

        Raises:
            ValueError: the form is not valid; check `is_valid` first.
        """
        if not self.is_valid or self._instance is None:
            raise ValueError(f"{self.model.__name__} is not valid; check form.is_valid first")
        return self._instance

    @property
    def fields(self) -> list[BoundField]:
        """Every field, in declaration order."""
        return [BoundField(self, spec) for spec in self._fields.values()]

    @property
    def multipart(self) -> bool:
        """Whether the form uploads files (needs `enctype="multipart/form-data"`)."""
        return any(spec.widget.multipart for spec in self._fields.values())

    @property
    def enctype(self) -> str:
        """The `enctype` of the `<form>` element."""
        if self.multipart:
            return "multipart/form-data"
        return "application/x-www-form-urlencoded"

    @property
    def csrf_field(self) -> str:
        """The name of the hidden input carrying the token (the middleware's `field_name`)."""
        from trivium.csrf import CSRF_FIELD
        from trivium.csrf import csrf_field_name

        return CSRF_FIELD if self.request is None else csrf_field_name(self.request)

    @property
    def csrf_token(self) -> str | None:
        """The CSRF token of the request's session (`None` without CSRF or a request)."""
        if self.request is None:
            return None
        try:
            from trivium.csrf import get_csrf_token  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return None
        from trivium.errors import ConfigurationError

        try:
            token: str = get_csrf_token(self.request)
        except ConfigurationError:
            return None
        return token

    def add_error(self, field: str | None, message: str) -> None:
        """Record an error found after validation (`None` for the whole form).

        Raises:
            KeyError: `field` is not a field of the form.
        """
        if field is None:
            self.non_field_errors.append(message)
            return
        if field not in self._fields:
            raise KeyError(f"{self.model.__name__} has no field {field!r}")
        self.errors.setdefault(field, []).append(message)

    def with_request(self, request: HTTPConnection) -> BoundForm[M]:
        """Attach `request` (so the CSRF field is drawn) and return the form."""
        self.request = request
        return self

    def render(
        self,
        action: str = "",
        *,
        method: str = "post",
        submit: str | None = "Submit",
        attrs: dict[str, Any] | None = None,
    ) -> Markup:
        """Return the whole `<form>` element: fields, CSRF input and a submit button.

        A `method="get"` form has no CSRF input: it would put the token in the URL (and
        give every visitor of a search page a session).
        """
        csrf = method.lower() not in _NO_BODY_METHODS
        context = {
            "form": self,
            "action": action,
            "method": method,
            "submit": submit,
            "attrs": attrs or {},
            "csrf": csrf,
        }
        # An app's own `forms/form.html` may draw the fields with `{{ form }}`, which
        # then follows this method too (rendering is synchronous).
        outer, self._csrf = self._csrf, csrf
        try:
            return self.renderer.render("forms/form.html", context)
        finally:
            self._csrf = outer

    def __html__(self) -> str:
        return self.renderer.render("forms/fields.html", {"form": self, "csrf": self._csrf})

    def __str__(self) -> str:
        return self.__html__()

    def __getitem__(self, name: str) -> BoundField:
        spec = self._fields.get(name)
        if spec is None:
            raise KeyError(f"{self.model.__name__} has no field {name!r}")
        return BoundField(self, spec)

    def __getattr__(self, name: str) -> BoundField:
        fields = self.__dict__.get("_fields")
        if name.startswith("_") or fields is None or name not in fields:
            raise AttributeError(name)
        return BoundField(self, fields[name])

    def __iter__(self) -> Iterator[BoundField]:
        return iter(self.fields)

    def __repr__(self) -> str:
        state = "valid" if self.is_valid else "invalid" if self.is_bound else "unbound"
        return f"<BoundForm {self.model.__name__} {state}>"

    @classmethod
    def __class_getitem__(cls, item: Any) -> Any:
        # `BoundForm[ArticleForm]` in a handler signature is a dependency taking the
        # request and `Annotated[..., Form()]` for a subclass whose pydantic schema binds
        # instead of failing with a 422 (see `trivium.forms._param`).
        from pydantic import BaseModel

        if isinstance(item, type) and issubclass(item, BaseModel):
            from trivium.forms._param import param_annotation

            return param_annotation(item)
        return super().__class_getitem__(item)  # type: ignore[misc]


def initial_values(model: type[BaseModel], initial: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the values an unbound form shows: `initial` (a mapping or object) over defaults.

    Also return the exact text of the date-times their inputs cannot show whole.
    """
    values: dict[str, Any] = {}
    initials: dict[str, str] = {}
    for spec in form_fields(model):
        if initial is None:
            value = spec.initial()
        elif isinstance(initial, dict) or hasattr(initial, "keys"):
            value = initial[spec.name] if spec.name in initial else spec.initial()
        else:
            value = getattr(initial, spec.name, spec.initial())
        values[spec.name] = display_value(spec, value)
        if spec.initial_name is not None and spec.widget.keep_value:
            text = initial_text(value)
            if text is not None:
                initials[spec.name] = text
    return values, initials
