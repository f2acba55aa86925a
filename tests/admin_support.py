"""A server with an admin token, for the tests of channels made through the admin API."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from overlay.app import create_app
from overlay.config import parse_config
from tests.conftest import Running
from tests.support import channel_dict

ADMIN_TOKEN = "admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHANNELS = "/api/v1/admin/channels"
NEW = {"id": "cause-42", "name": "Streamer 42", "currency": "EUR", "locale": "en_US",
       "campaign": {"title": "A cause", "goal": "500.00"}}


def config_data(data_dir: Path, redis_url: str | None) -> dict[str, Any]:
    return {"server": {"host": "127.0.0.1", "admin_tokens": [ADMIN_TOKEN]},
            "storage": {"redis_url": redis_url, "data_dir": str(data_dir)},
            "channels": [channel_dict()]}


@pytest.fixture
async def admin_server(aiohttp_server: Any, tmp_path: Path, backend: str,
                       request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    """A test module with an ``ADMIN_CONFIG`` (``config_data``'s signature) gets its own config."""
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    config_of = getattr(request.module, "ADMIN_CONFIG", config_data)
    config = parse_config(config_of(tmp_path / "data", redis_url), env={})
    server = await aiohttp_server(create_app(config), host="127.0.0.1")
    running = Running(str(server.make_url("")).rstrip("/"), config, aiohttp.ClientSession(), [])
    yield running
    for listener in running.listeners:
        await listener.close()
    await running.http.close()


