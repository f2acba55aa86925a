import aiohttp
import pytest
from aiohttp import web

from overlay.live.whip import LIVE_HUB, LiveSettings, setup_live

KEY = "s3cret-stream-key"


@pytest.fixture
async def live(aiohttp_server):
    """A real server on loopback with two channels; yields (base_url, hub, http)."""
    app = web.Application()
    setup_live(
        app,
        {"demo": LiveSettings(stream_key=KEY), "small": LiveSettings(stream_key=KEY, max_viewers=1)},
        public_url="http://127.0.0.1",
        ice_servers=["stun:stun.example.org:3478"] if False else [],
    )
    server = await aiohttp_server(app, host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        yield str(server.make_url("")).rstrip("/"), app[LIVE_HUB], http
