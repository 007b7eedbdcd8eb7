"""`starlette.datastructures` on trivium."""

from __future__ import annotations

from trivium.http import URL
from trivium.http import Address
from trivium.http import FormData
from trivium.http import Headers
from trivium.http import MutableHeaders
from trivium.http import QueryParams
from trivium.http import State
from trivium.http import UploadFile

__all__ = [
    "URL",
    "Address",
    "FormData",
    "Headers",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
]
