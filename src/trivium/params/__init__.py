"""Parameter markers: where handler arguments come from and how they are validated."""

from __future__ import annotations

from trivium.params._markers import Body
from trivium.params._markers import Cookie
from trivium.params._markers import File
from trivium.params._markers import Form
from trivium.params._markers import Header
from trivium.params._markers import Param
from trivium.params._markers import ParamSource
from trivium.params._markers import Path
from trivium.params._markers import Query
from trivium.params._secret import Secret
from trivium.params._secret import redact_secret_inputs

__all__ = [
    "Body",
    "Cookie",
    "File",
    "Form",
    "Header",
    "Param",
    "ParamSource",
    "Path",
    "Query",
    "Secret",
    "redact_secret_inputs",
]
