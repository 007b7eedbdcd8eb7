"""`fastapi.datastructures`: uploads and request data structures."""

from __future__ import annotations

from trivium.http import UploadFile
from trivium.http._datastructures import URL
from trivium.http._datastructures import Address
from trivium.http._datastructures import FormData
from trivium.http._datastructures import Headers
from trivium.http._datastructures import MutableHeaders
from trivium.http._datastructures import QueryParams
from trivium.http._datastructures import State

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
