"""`BoundForm[Model]` as a handler parameter, through the core's `Form()` parameters.

The core reads a form parameter whose type is a pydantic model by collecting the model's
fields from the submitted form and validating them, answering 422 on failure. A form
page wants the failure instead, to draw the form again. So `BoundForm[Model]` stands for
`Annotated[Bound, Form()]`, where `Bound` is a subclass of `Model` (the core collects the
same fields) whose pydantic schema wraps the model's: validation binds the collected
data and returns a `BoundForm`, valid or not. The model's own schema still documents the
request body in OpenAPI. When the core passes a validation context holding the request
(`{"request": conn}`), the form gets it and draws the CSRF field.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

from pydantic import BaseModel
from pydantic_core import core_schema

from trivium.params import Form as FormParam

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler

__all__ = ["param_annotation"]


@functools.cache
def param_annotation(model: type[BaseModel]) -> Any:
    """Return `Annotated[<binding subclass of model>, Form()]` for a handler parameter."""
    from trivium.forms._fields import form_fields

    def schema(
        cls: type[BaseModel], source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        inner = handler.generate_schema(model)
        return core_schema.with_info_wrap_validator_function(_binder(model), inner)

    namespace = {
        "__get_pydantic_core_schema__": classmethod(schema),
        "__module__": model.__module__,
        "__qualname__": model.__qualname__,
        "__doc__": model.__doc__,
    }
    bound = type(model.__name__, (model,), namespace)
    multipart = any(spec.widget.multipart for spec in form_fields(model))
    marker = FormParam(media_type="multipart/form-data") if multipart else FormParam()
    return Annotated[bound, marker]


def _binder(model: type[BaseModel]) -> Any:
    from trivium.forms._form import bind

    def validate(value: Any, handler: core_schema.ValidatorFunctionWrapHandler, info: Any) -> Any:
        context = info.context
        request = context.get("request") if isinstance(context, Mapping) else None
        data = value if isinstance(value, Mapping) else {}
        return bind(model, data, request=request)

    return validate
