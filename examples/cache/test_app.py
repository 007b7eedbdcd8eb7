from __future__ import annotations

from examples.cache import app as example
from trivium.testing import TestClient


def test_pages_and_lookups_are_built_once_and_rebuilt_after_a_change() -> None:
    with TestClient(example.app) as client:
        before = dict(example.computed)
        first = client.get("/catalogue")
        assert client.get("/catalogue").json() == first.json()
        assert (
            client.get("/catalogue", headers={"if-none-match": first.headers["etag"]}).status_code
            == 304
        )
        assert client.get("/prices/tea").json() == {"item": "tea", "price": 3.5}
        assert client.get("/prices/tea").json()["price"] == 3.5
        assert example.computed["catalogue"] - before["catalogue"] == 1
        assert example.computed["price"] - before["price"] == 1
        assert client.put("/prices/tea", params={"price": 3.0}).status_code == 200
        assert client.get("/prices/tea").json()["price"] == 3.0
        client.get("/catalogue")
        assert example.computed["catalogue"] - before["catalogue"] == 2
