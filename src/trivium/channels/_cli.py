"""`trivium channels publish` and `trivium channels members`, for the app in `TRIVIUM_APP`.

The `Channels` plugin contributes the `channels` group through its `cli_commands` hook.
The commands use the app's channels object without starting the app: a publication
from the command line reaches the subscribers of every running worker (on Redis), the
way a cron job or a deploy script announces something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

import anyio
import click
import orjson

from trivium.channels._event import ChannelsUnavailableError
from trivium.channels._event import InvalidChannelError

if TYPE_CHECKING:
    from trivium.channels._channels import Channels

__all__ = ["channels_group"]


def channels_group(channels: Channels) -> click.Group:
    """Return the `channels` command group of `channels`."""

    @click.group(name="channels", help="Publish to channels, list presence (trivium.channels).")
    def group() -> None:
        pass

    @group.command(name="publish")
    @click.argument("channel")
    @click.argument("data")
    def publish(channel: str, data: str) -> None:
        """Publish DATA (JSON) to CHANNEL; prints the event id of channels with history."""
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="DATA") from None

        async def run() -> str | None:
            try:
                return await channels.publish(channel, value)
            finally:
                await channels.backend.stop()

        event_id = _call(run)
        click.echo(f"Published to {channel}" + (f" as {event_id}." if event_id else "."))

    @group.command(name="members")
    @click.argument("channel")
    def members(channel: str) -> None:
        """Print the members present in CHANNEL, one JSON document per line."""

        async def run() -> list[Any]:
            try:
                return await channels.members(channel)
            finally:
                await channels.backend.stop()

        for member in _call(run):
            click.echo(orjson.dumps(member).decode())

    return group


def _call(function: Any) -> Any:
    try:
        return anyio.run(function)
    except InvalidChannelError as exc:
        raise click.BadParameter(str(exc.detail), param_hint="CHANNEL") from None
    except ChannelsUnavailableError as exc:
        raise click.ClickException(f"{exc.detail}: {exc.__cause__}") from None
