"""TechEmpower database scenarios written idiomatically with the Django ORM."""

from operator import attrgetter
from random import randint

from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django.shortcuts import render

from worlds.models import Fortune
from worlds.models import World


def clamp_queries(raw: str | None) -> int:
    """Parse the queries parameter: not an integer means 1, and clamp to 1..500."""
    try:
        count = int(raw or "1")
    except ValueError:
        return 1
    return min(max(count, 1), 500)


def as_dict(world: World) -> dict[str, int]:
    return {"id": world.id, "randomNumber": world.random_number}


def single_query(request: HttpRequest) -> JsonResponse:
    return JsonResponse(as_dict(World.objects.get(id=randint(1, 10000))))


def multiple_queries(request: HttpRequest) -> JsonResponse:
    count = clamp_queries(request.GET.get("queries"))
    worlds = [World.objects.get(id=randint(1, 10000)) for _ in range(count)]
    return JsonResponse([as_dict(world) for world in worlds], safe=False)


def fortunes(request: HttpRequest) -> HttpResponse:
    rows = list(Fortune.objects.all())
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", {"fortunes": rows})


def updates(request: HttpRequest) -> JsonResponse:
    count = clamp_queries(request.GET.get("queries"))
    ids = sorted(randint(1, 10000) for _ in range(count))  # sorted: no lock-order deadlocks
    worlds = {}
    for world_id in ids:
        world = World.objects.get(id=world_id)
        world.random_number = randint(1, 10000)
        worlds[world_id] = world
    World.objects.bulk_update(worlds.values(), ["random_number"])
    return JsonResponse([as_dict(worlds[world_id]) for world_id in ids], safe=False)
