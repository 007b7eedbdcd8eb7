"""App options, as shown in docs/routing.md: FastAPI's keywords and the groups they fill."""

from __future__ import annotations

from trivium import App
from trivium import DocsConfig
from trivium import HTTPConfig
from trivium.http import Limits

# --8<-- [start:keywords]
app = App(
    title="Shop",
    version="2.1",
    docs_url="/api/docs",
    redoc_url=None,
    root_path="/shop",
    max_body_size=1_000_000,
)
# --8<-- [end:keywords]

# --8<-- [start:groups]
docs = DocsConfig(title="Shop", version="2.1", docs_url="/api/docs", redoc_url=None)
http = HTTPConfig(root_path="/shop", limits=Limits(max_body_size=1_000_000))
same_app = App(docs=docs, http=http)  # the same app as above
# --8<-- [end:groups]


@app.get("/items")
def items() -> list[str]:
    return ["hat", "scarf"]
