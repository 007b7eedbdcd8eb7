"""The four basic endpoints written idiomatically with Django (forms validate input)."""

import json

from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django.views.decorators.http import require_POST

from djbench.forms import ItemForm
from djbench.forms import ItemQueryForm


@require_GET
def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"Hello, World!", content_type="text/plain; charset=utf-8")


@require_GET
def json_message(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": "Hello, World!"})


@require_GET
def read_item(request: HttpRequest, id: str) -> JsonResponse:
    form = ItemQueryForm({**request.GET.dict(), "id": id})
    if not form.is_valid():
        return JsonResponse({"detail": form.errors.get_json_data()}, status=422)
    return JsonResponse(form.cleaned_data)


@require_POST
def create_item(request: HttpRequest) -> JsonResponse:
    try:
        data = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "malformed JSON body"}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"detail": "expected a JSON object"}, status=422)
    form = ItemForm(data)
    if not form.is_valid():
        return JsonResponse({"detail": form.errors.get_json_data()}, status=422)
    return JsonResponse(form.cleaned_data)
