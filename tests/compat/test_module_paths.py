"""Every FastAPI and Starlette module path of the compat layer imports and has its names."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

import trivium.compat

MODULES = {
    "trivium.compat.fastapi": [
        "APIRouter",
        "BackgroundTasks",
        "Body",
        "Cookie",
        "Depends",
        "FastAPI",
        "File",
        "Form",
        "HTTPException",
        "Header",
        "Path",
        "Query",
        "Request",
        "Response",
        "Security",
        "UploadFile",
        "WebSocket",
        "WebSocketDisconnect",
        "WebSocketException",
        "status",
    ],
    "trivium.compat.fastapi.security": [
        "APIKeyCookie",
        "APIKeyHeader",
        "APIKeyQuery",
        "HTTPAuthorizationCredentials",
        "HTTPBasic",
        "HTTPBasicCredentials",
        "HTTPBearer",
        "HTTPDigest",
        "OAuth2",
        "OAuth2AuthorizationCodeBearer",
        "OAuth2PasswordBearer",
        "OAuth2PasswordRequestForm",
        "OAuth2PasswordRequestFormStrict",
        "OpenIdConnect",
        "SecurityScopes",
    ],
    "trivium.compat.fastapi.responses": [
        "FileResponse",
        "HTMLResponse",
        "JSONResponse",
        "ORJSONResponse",
        "PlainTextResponse",
        "RedirectResponse",
        "Response",
        "StreamingResponse",
        "UJSONResponse",
    ],
    "trivium.compat.fastapi.middleware": ["Middleware"],
    "trivium.compat.fastapi.middleware.cors": ["CORSMiddleware"],
    "trivium.compat.fastapi.middleware.gzip": ["GZipMiddleware"],
    "trivium.compat.fastapi.middleware.trustedhost": ["TrustedHostMiddleware"],
    "trivium.compat.fastapi.middleware.httpsredirect": ["HTTPSRedirectMiddleware"],
    "trivium.compat.fastapi.testclient": ["TestClient"],
    "trivium.compat.fastapi.encoders": ["jsonable_encoder"],
    "trivium.compat.fastapi.openapi.utils": ["get_openapi"],
    "trivium.compat.fastapi.openapi.docs": [
        "get_redoc_html",
        "get_swagger_ui_html",
        "get_swagger_ui_oauth2_redirect_html",
    ],
    "trivium.compat.fastapi.exception_handlers": [
        "http_exception_handler",
        "request_validation_exception_handler",
    ],
    "trivium.compat.fastapi.exceptions": [
        "FastAPIError",
        "HTTPException",
        "RequestValidationError",
        "ResponseValidationError",
        "WebSocketException",
        "WebSocketRequestValidationError",
    ],
    "trivium.compat.fastapi.concurrency": ["run_in_threadpool", "iterate_in_threadpool"],
    "trivium.compat.fastapi.staticfiles": ["StaticFiles"],
    "trivium.compat.fastapi.templating": ["Jinja2Templates"],
    "trivium.compat.fastapi.params": ["Body", "Depends", "Param", "Query", "Security"],
    "trivium.compat.fastapi.param_functions": ["Body", "Depends", "Query", "Security"],
    "trivium.compat.fastapi.routing": ["APIRoute", "APIRouter", "APIWebSocketRoute"],
    "trivium.compat.fastapi.background": ["BackgroundTasks"],
    "trivium.compat.fastapi.requests": ["HTTPConnection", "Request"],
    "trivium.compat.fastapi.websockets": ["WebSocket", "WebSocketDisconnect", "WebSocketState"],
    "trivium.compat.fastapi.status": ["HTTP_200_OK", "HTTP_422_UNPROCESSABLE_ENTITY"],
    "trivium.compat.fastapi.datastructures": ["UploadFile", "URL", "Headers", "State"],
    "trivium.compat.fastapi.utils": ["generate_unique_id"],
    "trivium.compat.fastapi.security.utils": ["get_authorization_scheme_param"],
    "trivium.compat.starlette": ["status"],
    "trivium.compat.starlette.applications": ["Starlette"],
    "trivium.compat.starlette.middleware": ["Middleware"],
    "trivium.compat.starlette.middleware.base": [
        "BaseHTTPMiddleware",
        "DispatchFunction",
        "RequestResponseEndpoint",
    ],
    "trivium.compat.starlette.middleware.cors": ["CORSMiddleware"],
    "trivium.compat.starlette.middleware.gzip": ["GZipMiddleware"],
    "trivium.compat.starlette.middleware.trustedhost": ["TrustedHostMiddleware"],
    "trivium.compat.starlette.middleware.httpsredirect": ["HTTPSRedirectMiddleware"],
    "trivium.compat.starlette.requests": ["ClientDisconnect", "HTTPConnection", "Request"],
    "trivium.compat.starlette.responses": ["JSONResponse", "Response", "StreamingResponse"],
    "trivium.compat.starlette.status": ["HTTP_404_NOT_FOUND", "WS_1000_NORMAL_CLOSURE"],
    "trivium.compat.starlette.routing": ["Mount", "NoMatchFound", "Route", "WebSocketRoute"],
    "trivium.compat.starlette.datastructures": [
        "URL",
        "Address",
        "FormData",
        "Headers",
        "MutableHeaders",
        "QueryParams",
        "State",
        "UploadFile",
    ],
    "trivium.compat.starlette.exceptions": ["HTTPException", "WebSocketException"],
    "trivium.compat.starlette.testclient": ["TestClient"],
    "trivium.compat.starlette.background": ["BackgroundTask", "BackgroundTasks"],
    "trivium.compat.starlette.concurrency": ["iterate_in_threadpool", "run_in_threadpool"],
    "trivium.compat.starlette.staticfiles": ["StaticFiles"],
    "trivium.compat.starlette.templating": ["Jinja2Templates"],
    "trivium.compat.starlette.websockets": ["WebSocket", "WebSocketDisconnect", "WebSocketState"],
    "trivium.compat.starlette.types": ["ASGIApp", "Message", "Receive", "Scope", "Send"],
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_path_has_the_names(module: str) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in MODULES[module] if not hasattr(imported, name)]
    assert missing == []


def test_the_same_names_as_fastapi_exports() -> None:
    fastapi = pytest.importorskip("fastapi")
    compat = importlib.import_module("trivium.compat.fastapi")
    public = {n for n in dir(fastapi) if n[0].isupper() or n == "status"}
    assert sorted(public - set(dir(compat))) == []


def test_import_trivium_does_not_load_the_compat_layer() -> None:
    import subprocess
    import sys

    code = "import sys, trivium; print(any(m.startswith('trivium.compat') for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )  # noqa: S603
    assert result.stdout.strip() == "False"


# Run in a fresh interpreter: once any test imports a submodule, the import system binds
# it on its package, which would hide a package that cannot reach it by itself.
REACH = """
import json, sys, types
from trivium.compat import fastapi, starlette

packages = {"fastapi": fastapi, "starlette": starlette}
lazy = "trivium.compat.fastapi.testclient" not in sys.modules
unreachable = []
for path in json.loads(sys.argv[1]):
    top, *rest = path.split(".")
    target = packages[top]
    for part in rest:
        target = getattr(target, part, None)
    if not isinstance(target, types.ModuleType):
        unreachable.append(path)
print(json.dumps({"lazy": lazy, "unreachable": unreachable}))
"""


def test_every_mirrored_submodule_is_an_attribute_of_the_package_as_in_fastapi() -> None:
    paths = sorted(
        info.name.removeprefix("trivium.compat.")
        for info in pkgutil.walk_packages(trivium.compat.__path__, "trivium.compat.")
        if "._" not in info.name and info.name.count(".") > 2
    )
    assert "fastapi.responses" in paths
    assert "starlette.middleware.base" in paths
    result = subprocess.run(  # noqa: S603 - the test's own interpreter and code
        [sys.executable, "-c", REACH, json.dumps(paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout) == {"lazy": True, "unreachable": []}


def test_a_name_that_is_not_a_submodule_is_an_attribute_error() -> None:
    from trivium.compat import fastapi

    with pytest.raises(AttributeError, match="has no attribute 'no_such_module'"):
        _ = fastapi.no_such_module
    assert not hasattr(fastapi, "_private")
