"""The full-stack endpoints written idiomatically with Django (a ModelForm validates)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import HttpResponseRedirect
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.http import require_http_methods

from notes.models import Note


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = ["title", "body", "priority"]


@require_GET
def json_message(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": "Hello, World!"})


@require_GET
@login_required
def me(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"email": request.user.email})


@require_http_methods(["GET", "POST"])
@login_required
def new_note(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            note = form.save(commit=False)
            note.user = request.user
            note.save()
            response = HttpResponseRedirect("/notes/new")
            response.status_code = 303  # see other: post/redirect/get
            return response
    else:
        form = NoteForm()
    return render(request, "notes/new.html", {"form": form})
