"""Widgets: how one form field is drawn as HTML.

A widget is a small object naming a Jinja2 template and the attributes it adds to the
input. The form picks a widget from each field's type; an explicit one given in
`Annotated[str, Textarea(rows=8)]` (or `json_schema_extra={"widget": "textarea"}`) wins.
A custom widget is a subclass with its own `template_name`; the template receives
`field`, `widget`, `attrs` (escaped by the `html_attrs` filter), `value` and `choices`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

if TYPE_CHECKING:
    from trivium.forms._bound import BoundField

__all__ = [
    "WIDGETS",
    "CheckboxInput",
    "CheckboxSelectMultiple",
    "DateInput",
    "DateTimeInput",
    "EmailInput",
    "FileInput",
    "HiddenInput",
    "NumberInput",
    "PasswordInput",
    "RadioSelect",
    "Select",
    "SelectMultiple",
    "TextInput",
    "Textarea",
    "TimeInput",
    "URLInput",
    "Widget",
]


class Widget:
    """Draw a field as an `<input>` (the base of every widget).

    Example:
        ```python
        class ColourPicker(Widget):
            input_type = "color"


        class Theme(Form):
            accent: Annotated[str, ColourPicker()] = "#3355ff"
        ```
    """

    template_name: ClassVar[str] = "forms/widgets/input.html"
    """The template that draws the widget."""
    input_type: ClassVar[str | None] = "text"
    """The `type` attribute of the `<input>`."""
    keep_value: ClassVar[bool] = True
    """Whether a submitted value is shown again when the form is redisplayed."""
    strip: ClassVar[bool] = True
    """Whether surrounding whitespace is removed from submitted text before validation."""
    label_after: ClassVar[bool] = False
    """Whether the field's label follows the widget (checkboxes) rather than leading it."""
    multipart: ClassVar[bool] = False
    """Whether the widget needs `enctype="multipart/form-data"` on the form."""

    def __init__(
        self, attrs: Mapping[str, Any] | None = None, *, template_name: str | None = None
    ) -> None:
        """Create a widget adding `attrs` to its element, drawn with `template_name`.

        Args:
            attrs: Extra HTML attributes (`{"placeholder": "Title", "autofocus": True}`);
                `True` draws a bare attribute, `False` and `None` leave it out.
            template_name: A template to use instead of the class's own.
        """
        self.attrs: dict[str, Any] = dict(attrs or {})
        """Extra HTML attributes of the element."""
        if template_name is not None:
            self.template_name = template_name  # type: ignore[misc]

    def build_attrs(self, field: BoundField) -> dict[str, Any]:
        """Return the element's attributes: type, name, id, value, constraints, ARIA."""
        attrs: dict[str, Any] = {}
        if self.input_type is not None:
            attrs["type"] = self.input_type
        attrs["name"] = field.html_name
        attrs["id"] = field.id
        attrs.update(field.constraints)
        attrs["required"] = field.required
        described = [f"{field.id}-help"] if field.help_text else []
        if field.errors:
            attrs["aria-invalid"] = "true"
            described.append(f"{field.id}-errors")
        if described:
            attrs["aria-describedby"] = " ".join(described)
        attrs.update(self.attrs)
        return attrs

    def get_context(self, field: BoundField) -> dict[str, Any]:
        """Return the variables of the widget's template."""
        attrs = self.build_attrs(field)
        value = self.format_value(field.value)
        if self.input_type is not None and value is not None:
            attrs.setdefault("value", value)
        return {
            "field": field,
            "widget": self,
            "attrs": attrs,
            "value": value,
            "choices": field.choices,
        }

    def format_value(self, value: Any) -> Any:
        """Return the value as the widget shows it (`None` for no value)."""
        if value is None or value == "" or value == []:
            return None
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.attrs!r})"


class TextInput(Widget):
    """A one-line text input."""


class EmailInput(Widget):
    """An e-mail address input (`EmailStr` fields)."""

    input_type = "email"


class URLInput(Widget):
    """A URL input (`AnyUrl`, `HttpUrl` fields)."""

    input_type = "url"


class NumberInput(Widget):
    """A number input (`int`, `float`, `Decimal`); `min`/`max` come from the constraints."""

    input_type = "number"


class DateInput(Widget):
    """A date picker (`date` fields)."""

    input_type = "date"


class _ClockInput(Widget):
    """A date-time or time input whose `step` follows the value shown.

    The browser's default step is a minute; a value with seconds gets `step="1"` and one
    with milliseconds `step="0.001"`, so the browser keeps (and accepts) them.
    """

    def build_attrs(self, field: BoundField) -> dict[str, Any]:
        """Return the attributes, with a `step` fine enough for the value shown."""
        attrs = super().build_attrs(field)
        step = _clock_step(field.value)
        if step is not None:
            attrs.setdefault("step", step)
        return attrs


class DateTimeInput(_ClockInput):
    """A local date and time picker (`datetime` fields); aware values are shown in UTC."""

    input_type = "datetime-local"


class TimeInput(_ClockInput):
    """A time picker (`time` fields)."""

    input_type = "time"


def _clock_step(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    clock = value.rpartition("T")[2]
    if "." in clock:
        return "0.001"
    return "1" if clock.count(":") > 1 else None


class HiddenInput(Widget):
    """A hidden input."""

    input_type = "hidden"


class PasswordInput(Widget):
    """A password input; what was typed is never sent back in the page."""

    input_type = "password"
    keep_value = False
    strip = False


class Textarea(Widget):
    """A multi-line text area."""

    template_name = "forms/widgets/textarea.html"
    input_type = None

    def __init__(
        self,
        attrs: Mapping[str, Any] | None = None,
        *,
        rows: int | None = None,
        template_name: str | None = None,
    ) -> None:
        """Create a text area of `rows` lines (browser default when `None`)."""
        super().__init__({"rows": rows, **(attrs or {})}, template_name=template_name)


class CheckboxInput(Widget):
    """A checkbox (`bool` fields): unchecked is sent as nothing and read as `False`."""

    template_name = "forms/widgets/checkbox.html"
    input_type = "checkbox"
    label_after = True

    def get_context(self, field: BoundField) -> dict[str, Any]:
        """Return the template variables; the box is checked when the value is true."""
        context = super().get_context(field)
        attrs = context["attrs"]
        attrs["value"] = "true"
        attrs["checked"] = field.checked
        # A checkbox "required" means "must be ticked", which a bool field doesn't mean.
        attrs["required"] = False
        return context


class FileInput(Widget):
    """A file picker (`UploadFile` fields; `list[UploadFile]` picks several)."""

    input_type = "file"
    keep_value = False
    multipart = True

    def build_attrs(self, field: BoundField) -> dict[str, Any]:
        """Return the attributes; several files may be picked for a list field."""
        attrs = super().build_attrs(field)
        attrs["multiple"] = field.multiple
        return attrs

    def format_value(self, value: Any) -> Any:
        """Return `None`: browsers never let a page pre-fill a file input."""
        return None


class Select(Widget):
    """A drop-down list (`Enum`, `Literal` or `Choices` fields); `multiple` for lists."""

    template_name = "forms/widgets/select.html"
    input_type = None

    def build_attrs(self, field: BoundField) -> dict[str, Any]:
        """Return the attributes; a list field gets `multiple`."""
        attrs = super().build_attrs(field)
        attrs["multiple"] = field.multiple
        return attrs


class SelectMultiple(Select):
    """A list box where several choices can be selected (`list[Enum]` and the like)."""


class RadioSelect(Widget):
    """One radio button per choice."""

    template_name = "forms/widgets/radios.html"
    input_type = "radio"


class CheckboxSelectMultiple(Widget):
    """One checkbox per choice, for fields holding several choices."""

    template_name = "forms/widgets/checkboxes.html"
    input_type = "checkbox"

    def build_attrs(self, field: BoundField) -> dict[str, Any]:
        """Return the attributes; at least one box need not be ticked on the client."""
        attrs = super().build_attrs(field)
        attrs["required"] = False
        return attrs


WIDGETS: dict[str, type[Widget]] = {
    "checkbox": CheckboxInput,
    "checkboxes": CheckboxSelectMultiple,
    "date": DateInput,
    "datetime": DateTimeInput,
    "email": EmailInput,
    "file": FileInput,
    "hidden": HiddenInput,
    "number": NumberInput,
    "password": PasswordInput,
    "radio": RadioSelect,
    "select": Select,
    "select-multiple": SelectMultiple,
    "text": TextInput,
    "textarea": Textarea,
    "time": TimeInput,
    "url": URLInput,
}
"""Widget names accepted in `json_schema_extra={"widget": ...}`."""
