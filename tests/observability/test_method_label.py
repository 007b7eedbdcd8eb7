"""The metrics' `method` label is the request's method, not the route's method set."""

from __future__ import annotations

import pytest

from trivium import App
from trivium.observability import Observability
from trivium.testing import TestClient


def _counts(access_log: bool) -> dict[str, float]:
    app = App(plugins=[Observability(metrics=True, access_log=access_log)])

    @app.api_route("/multi", methods=["GET", "POST", "DELETE"])
    async def multi() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    with TestClient(app) as client:
        client.post("/multi")
        client.post("/multi")
        client.delete("/multi")
        client.get("/multi")
        client.get("/items/1")
        client.put("/nope")
        client.request("PROPFIND", "/nope")
        client.request("BREW", "/multi")
        text = client.get("/metrics").text
    prefix = "trivium_requests_total"
    return {
        line[len(prefix) : line.rindex(" ")]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix + "{")
    }


@pytest.mark.parametrize("access_log", [False, True], ids=["observer", "step"])
def test_each_request_is_counted_under_its_own_method(access_log: bool) -> None:
    counts = _counts(access_log)
    assert counts['{method="POST",route="/multi",status="200"}'] == 2
    assert counts['{method="DELETE",route="/multi",status="200"}'] == 1
    assert counts['{method="GET",route="/multi",status="200"}'] == 1
    assert counts['{method="GET",route="/items/{item_id}",status="200"}'] == 1
    assert counts['{method="PUT",route="<unmatched>",status="404"}'] == 1
    assert not [label for label in counts if "|" in label or "ANY" in label]


@pytest.mark.parametrize("access_log", [False, True], ids=["observer", "step"])
def test_unknown_methods_share_one_label(access_log: bool) -> None:
    counts = _counts(access_log)
    other = {label: count for label, count in counts.items() if 'method="OTHER"' in label}
    assert sum(other.values()) == 2
    assert not [label for label in counts if "PROPFIND" in label or "BREW" in label]
