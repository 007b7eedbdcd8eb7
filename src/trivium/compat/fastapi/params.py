"""`fastapi.params`: the parameter marker classes."""

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
from trivium.params._markers import Param
from trivium.params._markers import ParamSource as ParamTypes

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Param",
    "ParamTypes",
    "Path",
    "Query",
    "Security",
]
