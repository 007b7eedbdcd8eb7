"""WebSockets, as shown in docs/websockets.md."""

from __future__ import annotations

from typing import Annotated

from trivium import App
from trivium import Depends
from trivium import Query
from trivium import WebSocket
from trivium import WebSocketDisconnect
from trivium import WebSocketException
from trivium import status

app = App()
left: list[str] = []  # who disconnected (read by the tests)


# --8<-- [start:chat]
def user_from_token(token: Annotated[str, Query(min_length=3)]) -> str:
    if not token.startswith("user-"):
        # Before accept(), this refuses the handshake (the client sees HTTP 403).
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "Unknown token")
    return token.removeprefix("user-")


@app.websocket("/rooms/{room}")
async def chat(
    websocket: WebSocket, room: str, user: Annotated[str, Depends(user_from_token)]
) -> None:
    await websocket.accept()
    await websocket.send_json({"joined": room, "user": user})
    try:
        while True:
            message = await websocket.receive_json()
            if not isinstance(message, dict) or "text" not in message:
                raise WebSocketException(status.WS_1003_UNSUPPORTED_DATA, "Send {'text': ...}")
            await websocket.send_json({"user": user, "text": message["text"]})
    except WebSocketDisconnect as exc:
        left.append(f"{user} left with code {exc.code}")


# --8<-- [end:chat]
