"""A small real Django project, configured in-process, used by the interop tests.

`setup(path)` configures Django once per process (its settings are process-global)
with a SQLite database at `path`, creates the tables, and returns the WSGI handler.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import django
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.http import require_POST

SECRET = "django-secret-for-tests-0123456789abcdef"


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "hello": request.GET.get("name", "world"),
            "script_name": request.META["SCRIPT_NAME"],
            "path_info": request.path_info,
            "reverse": reverse("hello"),
            "absolute": request.build_absolute_uri(reverse("hello")),
        }
    )


@require_GET
def form_page(request: HttpRequest) -> HttpResponse:
    from django.middleware.csrf import get_token

    return JsonResponse({"csrf": get_token(request)})


@require_POST
def form_submit(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"name": request.POST["name"], "tags": request.POST.getlist("tag")})


@require_POST
def upload(request: HttpRequest) -> JsonResponse:
    file = request.FILES["file"]
    size = sum(len(chunk) for chunk in file.chunks())
    return JsonResponse({"filename": file.name, "size": size})


def download(request: HttpRequest, count: int) -> StreamingHttpResponse:
    def rows() -> Iterator[bytes]:
        for n in range(count):
            yield f"row {n}\n".encode()

    return StreamingHttpResponse(rows(), content_type="text/plain")


def go(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("hello") + "?name=redirected")


@require_POST
def sign_in(request: HttpRequest) -> JsonResponse:
    user = authenticate(
        request, username=request.POST["username"], password=request.POST["password"]
    )
    if user is None:
        return JsonResponse({"ok": False}, status=403)
    login(request, user)
    return JsonResponse({"ok": True})


def whoami(request: HttpRequest) -> JsonResponse:
    user = request.user
    return JsonResponse({"user": user.get_username() if user.is_authenticated else None})


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("legacy failure")


urlpatterns = [
    path("hello/", hello, name="hello"),
    path("form/", form_page, name="form"),
    path("form/submit/", form_submit, name="form-submit"),
    path("upload/", upload, name="upload"),
    path("download/<int:count>/", download, name="download"),
    path("go/", go, name="go"),
    path("login/", sign_in, name="login"),
    path("whoami/", whoami, name="whoami"),
    path("boom/", boom, name="boom"),
]


def setup(database: Path) -> object:
    """Configure Django for this process, create its tables, return the WSGI handler."""
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY=SECRET,
            ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=[
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "django.contrib.sessions",
            ],
            MIDDLEWARE=[
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
            ],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            USE_TZ=True,
            DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        )
        django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False)
    return get_wsgi_application()
