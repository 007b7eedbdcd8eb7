"""`BoundForm[Model]` as a handler parameter, through the core's `Form()` parameters.

The core reads a form parameter whose type is a pydantic model by collecting the model's
fields from the submitted form and validating them, answering 422 on failure. A form
page wants the failure instead, to draw the form again. So `BoundForm[Model]` stands for
a dependency taking the request and `Annotated[Bound, Form()]`, where `Bound` is a
subclass of `Model` (the core collects the same fields) whose pydantic schema wraps the
model's: validation binds the collected data and returns a `BoundForm`, valid or not.
The model's own schema still documents the request body in OpenAPI. Taking the request
is what makes the route one that reads it, as a handler taking `Request` is: the
sessions and CSRF plugins run for it, so the form's CSRF field is drawn and the
submission checked. The core passes the request to the validation as its context
(`{"request": conn}`), where the form gets it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

from pydantic import BaseModel
from pydantic_core import core_schema

from trivium.di import Depends
from trivium.http import Request
from trivium.params import Form as FormParam

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler

__all__ = ["BINDS_FORM", "param_annotation"]

BINDS_FORM = "__trivium_binds_form__"
"""The attribute marking the model class of a `BoundForm` parameter.

Parameter models read by `trivium.params` hand such a model the submitted form as sent
(empty boxes included: the form decides what an empty box means), not with the empty
values left out as for a FastAPI-style `Form()` model.
"""


@functools.cache
def param_annotation(model: type[BaseModel]) -> Any:
    """Return the annotation a handler's `BoundForm[model]` parameter stands for.

    `Annotated[<binding subclass of model>, Depends(<dependency>)]`, the dependency taking
    the request and the form as `Annotated[<binding subclass>, Form()]`.
    """
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
        BINDS_FORM: True,
    }
    bound = type(model.__name__, (model,), namespace)
    multipart = any(spec.widget.multipart for spec in form_fields(model))
    marker = FormParam(media_type="multipart/form-data") if multipart else FormParam()

    async def bound_form(request: Request, form: Any) -> Any:
        del request  # taken so that the route runs the session and CSRF steps
        return form

    bound_form.__annotations__ = {
        "request": Request,
        "form": Annotated[bound, marker],
        "return": bound,
    }
    bound_form.__qualname__ = f"BoundForm[{model.__qualname__}]"
    bound_form.__module__ = model.__module__
    return Annotated[bound, Depends(bound_form)]


def _binder(model: type[BaseModel]) -> Any:
    from trivium.forms._form import bind

    def validate(value: Any, handler: core_schema.ValidatorFunctionWrapHandler, info: Any) -> Any:
        context = info.context
        request = context.get("request") if isinstance(context, Mapping) else None
        data = value if isinstance(value, Mapping) else {}
        return bind(model, data, request=request)

    return validate
