"""Property-based fuzzing of routing and parameter parsing."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from trivium import App
from trivium import Query
from trivium.http import QueryParams
from trivium.routing._trie import PathTemplate
from trivium.routing._trie import Trie
from trivium.testing import TestClient

pytestmark = pytest.mark.drives_no_app

app = App()


@app.get("/items/{item_id}")
async def item(
    item_id: int, q: Annotated[str | None, Query(max_length=20)] = None, n: int = 0
) -> dict[str, object]:
    return {"id": item_id, "q": q, "n": n}


@app.get("/files/{path:path}")
async def files(path: str) -> str:
    return path


client = TestClient(app, raise_server_exceptions=True)

segment = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(segment, st.text(max_size=40), st.text(max_size=10))
def test_any_item_request_is_answered_without_server_error(item_id: str, q: str, n: str) -> None:
    response = client.get("/items/" + quote(item_id, safe=""), params={"q": q, "n": n})
    assert response.status_code in (200, 404, 422), response.text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        segment.filter(lambda s: "/" not in s and s not in ("", ".", "..")), min_size=1, max_size=5
    )
)
def test_path_parameter_takes_every_segment(parts: list[str]) -> None:
    trie: Trie[str] = Trie()
    trie.insert(PathTemplate("/files/{path:path}"), lambda: "files")
    found = trie.match("/files/" + "/".join(parts))
    assert found is not None
    assert found[1] == ["/".join(parts)]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_query_parsing_never_raises(query: str) -> None:
    params = QueryParams(query)
    for key in params:
        assert isinstance(params.getlist(key), list)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=10), st.text(max_size=10)), max_size=10))
def test_query_round_trip(pairs: list[tuple[str, str]]) -> None:
    encoded = str(QueryParams(pairs))
    assert QueryParams(encoded).multi_items() == pairs
