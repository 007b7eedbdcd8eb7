"""`fastapi.param_functions`: the parameter functions."""

from __future__ import annotations

from trivium.di import Depends
from trivium.di import Security
from trivium.params import Body
from trivium.params import Cookie
from trivium.params import File
from trivium.params import Form
from trivium.params import Header
from trivium.params import Path
from trivium.params import Query

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Path",
    "Query",
    "Security",
]
