"""Stream an LLM's tokens to the browser, and stop generating the moment the client leaves.

`generate()` stands in for an LLM client's streaming call (`client.messages.stream(...)`,
`client.chat.completions.create(stream=True)`): an async generator of tokens that costs
money for every token it produces. Run with `trivium run examples.streaming.app:app`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from pydantic import BaseModel

from trivium import App
from trivium import Query
from trivium.responses import EventSourceResponse
from trivium.responses import ServerSentEvent

app = App()
usage = {"tokens": 0, "open": 0}
"""Tokens generated so far and generations running: what the bill would show."""


# --8<-- [start:model]
async def generate(prompt: str, delay: float) -> AsyncIterator[str]:
    """Yield the reply token by token (a stand-in for an LLM client's stream)."""
    usage["open"] += 1
    try:
        words = f"You asked: {prompt}. " + "Here is a long and thoughtful answer. " * 50
        for word in words.split(" "):
            usage["tokens"] += 1
            yield word + " "
            await anyio.sleep(delay)  # the model thinking (network I/O in real life)
    finally:
        usage["open"] -= 1  # runs when the client leaves too: the request is cancelled


# --8<-- [end:model]

Prompt = Annotated[str, Query(min_length=1, max_length=2000)]
Delay = Annotated[float, Query(ge=0, le=1)]


# --8<-- [start:sse]
@app.get("/chat")
async def chat(prompt: Prompt, delay: Delay = 0.02) -> EventSourceResponse:
    async def events() -> AsyncIterator[ServerSentEvent]:
        async for token in generate(prompt, delay):
            yield ServerSentEvent(data=token, event="token")
        yield ServerSentEvent(data="", event="done")

    # no-cache and X-Accel-Buffering: no are set, so proxies pass tokens on at once.
    return EventSourceResponse(events(), ping=10)


# --8<-- [end:sse]


# --8<-- [start:jsonl]
class Token(BaseModel):
    text: str


@app.get("/chat.jsonl")
async def chat_lines(prompt: Prompt, delay: Delay = 0.02) -> AsyncIterator[Token]:
    # A generator handler: each item is one line of JSON Lines (application/jsonl).
    async for token in generate(prompt, delay):
        yield Token(text=token)


# --8<-- [end:jsonl]


@app.get("/usage")
async def current_usage() -> dict[str, int]:
    return usage
