"""The HTML forms: fields, widgets and rules come from the type hints."""

from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import Field

from examples.demo.models import Priority
from trivium.forms import EmailInput
from trivium.forms import Form
from trivium.forms import PasswordInput
from trivium.forms import Textarea


# --8<-- [start:todo-form]
class TodoForm(Form):
    """Create or edit a to-do."""

    title: Annotated[str, Field(min_length=3, max_length=200)]
    notes: Annotated[str, Textarea(rows=4), Field(max_length=2000)] = ""
    due: datetime.date | None = None
    priority: Priority = Priority.NORMAL
    done: bool = False


# --8<-- [end:todo-form]


class LoginForm(Form):
    """Log in with an e-mail address and a password."""

    email: Annotated[str, EmailInput(), Field(max_length=254)]
    password: Annotated[str, PasswordInput(), Field(max_length=4096)]
