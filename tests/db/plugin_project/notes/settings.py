from __future__ import annotations

from trivium.conf import Settings as BaseSettings


class Settings(BaseSettings):
    greeting: str = "hello"
