"""HTML forms from pydantic models: widgets from type hints, validation, redisplay with errors.

```python
from typing import Annotated

from pydantic import Field

from trivium import App
from trivium.forms import BoundForm, Form, Textarea
from trivium.responses import HTMLResponse, RedirectResponse


class ArticleForm(Form):
    title: Annotated[str, Field(max_length=100)]
    body: Annotated[str, Textarea(rows=6)]
    published: bool = False


app = App()


@app.get("/articles/new")
async def new_article() -> HTMLResponse:
    return HTMLResponse(ArticleForm.empty().render())


@app.post("/articles/new")
async def create_article(form: BoundForm[ArticleForm]) -> HTMLResponse | RedirectResponse:
    if not form.is_valid:  # drawn again with its errors and what was typed
        return HTMLResponse(form.render(), status_code=422)
    article = form.data  # an ArticleForm instance
    return RedirectResponse(f"/articles?created={article.title}", status_code=303)
```

Needs the `templates` extra (Jinja2).
"""

from __future__ import annotations

from trivium.forms._bound import BoundField
from trivium.forms._bound import BoundForm
from trivium.forms._bound import ErrorList
from trivium.forms._fields import Choices
from trivium.forms._form import Form
from trivium.forms._form import bind
from trivium.forms._form import depends
from trivium.forms._form import empty
from trivium.forms._form import from_request
from trivium.forms._render import FormRenderer
from trivium.forms._widgets import WIDGETS
from trivium.forms._widgets import CheckboxInput
from trivium.forms._widgets import CheckboxSelectMultiple
from trivium.forms._widgets import DateInput
from trivium.forms._widgets import DateTimeInput
from trivium.forms._widgets import EmailInput
from trivium.forms._widgets import FileInput
from trivium.forms._widgets import HiddenInput
from trivium.forms._widgets import NumberInput
from trivium.forms._widgets import PasswordInput
from trivium.forms._widgets import RadioSelect
from trivium.forms._widgets import Select
from trivium.forms._widgets import SelectMultiple
from trivium.forms._widgets import Textarea
from trivium.forms._widgets import TextInput
from trivium.forms._widgets import TimeInput
from trivium.forms._widgets import URLInput
from trivium.forms._widgets import Widget

__all__ = [
    "WIDGETS",
    "BoundField",
    "BoundForm",
    "CheckboxInput",
    "CheckboxSelectMultiple",
    "Choices",
    "DateInput",
    "DateTimeInput",
    "EmailInput",
    "ErrorList",
    "FileInput",
    "Form",
    "FormRenderer",
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
    "bind",
    "depends",
    "empty",
    "from_request",
]
