"""The realtime layer's stop ends every task it started, also those of a feed that a commit
landing during the stop would start (a team announcement still running at shutdown)."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from overlay import keys
from overlay.app import create_app
from overlay.config import parse_config
from tests.admin_support import config_data
from tests.support import WAIT


async def test_a_feed_started_while_stopping_does_not_hold_the_stop(aiohttp_server: Any, tmp_path: Path) -> None:
    app = create_app(parse_config(config_data(tmp_path / "data", None), env={}))
    await aiohttp_server(app, host="127.0.0.1")
    realtime = app[keys.REALTIME]
    realtime.feeds.pop("demo")  # its tasks stay listed: as for a channel whose feed is not started yet
    stopping = asyncio.create_task(realtime.stop())
    await asyncio.sleep(0)  # stop() has listed its tasks and waits for them to end
    realtime.feed("demo")  # what a commit landing now asks for
    await asyncio.wait_for(stopping, WAIT)
    assert all(task.done() for task in realtime._tasks)
