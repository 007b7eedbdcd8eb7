"""The legacy project's views: notes with a form, an attachment upload, a CSV export."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth import authenticate
from django.contrib.auth import login
from django.contrib.auth import logout
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django.http import StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from examples.migrate_django.legacy.models import Note


def index(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "notes": [note.as_dict() for note in Note.objects.all()],
            "new": reverse("note-new"),
            "script_name": request.META["SCRIPT_NAME"],
            "path_info": request.path_info,
            "absolute": request.build_absolute_uri(reverse("index")),
        }
    )


def note_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        note = Note.objects.create(
            title=request.POST["title"],
            body=request.POST.get("body", ""),
            author=request.user if request.user.is_authenticated else None,
        )
        return redirect("note-detail", note_id=note.id)
    return HttpResponse(
        format_html(
            '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input name="title"><textarea name="body"></textarea><button>Save</button></form>',
            get_token(request),
        )
    )


def note_detail(request: HttpRequest, note_id: int) -> JsonResponse:
    return JsonResponse(get_object_or_404(Note, id=note_id).as_dict())


@require_POST
def note_attachment(request: HttpRequest, note_id: int) -> JsonResponse:
    get_object_or_404(Note, id=note_id)
    upload = request.FILES["file"]
    return JsonResponse({"name": upload.name, "size": sum(len(c) for c in upload.chunks())})


def export(request: HttpRequest) -> StreamingHttpResponse:
    def rows() -> Iterator[str]:
        yield "id,title\n"
        for note in Note.objects.iterator():
            yield f"{note.id},{note.title}\n"

    return StreamingHttpResponse(rows(), content_type="text/csv")


@require_POST
def sign_in(request: HttpRequest) -> JsonResponse:
    user = authenticate(
        request, username=request.POST.get("username"), password=request.POST.get("password")
    )
    if user is None:
        return JsonResponse({"ok": False}, status=403)
    login(request, user)
    return JsonResponse({"ok": True})


@require_POST
def sign_out(request: HttpRequest) -> JsonResponse:
    logout(request)
    return JsonResponse({"ok": True})


def whoami(request: HttpRequest) -> JsonResponse:
    user = request.user
    return JsonResponse({"user": user.get_username() if user.is_authenticated else None})
