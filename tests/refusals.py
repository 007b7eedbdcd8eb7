"""What a client sees of a refused websocket handshake, on the interface the tests run over.

Over ASGI the app's close code reaches the client. Over RSGI Granian answers a refused
handshake with HTTP 403 and no close code (docs/websockets.md), and the test bridge
does the same, so the tests of refusals check the 403 there.
"""

from __future__ import annotations

import os
from typing import Any

OVER_RSGI = os.environ.get("TRIVIUM_TEST_INTERFACE") == "rsgi"


def refused_with(refusal: Any, *codes: int) -> bool:
    """Whether `refusal` (a `WebSocketRejected`) says the handshake was refused with `codes`."""
    if OVER_RSGI:
        return refusal.status_code == 403
    return refusal.code in codes
