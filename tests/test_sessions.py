"""Dashboard sessions end on the server: a copied cookie dies at logout, in every instance and
after a restart; the /dashboard socket takes the cookie only from this server's pages."""
from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import aiohttp
import socketio
import yaml

from overlay.web.auth import csrf_token
from tests.support import MOD_TOKEN, ServerProcess, channel_dict, free_port

STATE = "/api/v1/channels/demo/state"


async def log_in(http: aiohttp.ClientSession, url: str) -> str:
    async with http.post(url + "/dashboard/demo/login", data={"token": MOD_TOKEN}, headers={"Origin": url},
                         allow_redirects=False) as r:
        assert r.status == 303, await r.text()
        return re.match(r"overlay_session_demo=([^;]+);", r.headers["Set-Cookie"]).group(1)


async def log_out(http: aiohttp.ClientSession, url: str, cookie: str) -> None:
    async with http.post(url + "/dashboard/demo/logout", data={"csrf": csrf_token(cookie)}, allow_redirects=False,
                         headers={"Origin": url, "Cookie": f"overlay_session_demo={cookie}"}) as r:
        assert r.status == 303, await r.text()


async def api_status(http: aiohttp.ClientSession, url: str, cookie: str) -> int:
    async with http.get(url + STATE, headers={"Cookie": f"overlay_session_demo={cookie}"}) as r:
        return r.status


async def dashboard_socket(url: str, cookie: str, origin: str | None) -> str:
    """'connected' or the connect_error's message, for a raw Socket.IO client carrying the cookie."""
    client, refused = socketio.AsyncClient(reconnection=False), []
    client.on("connect_error", lambda data: refused.append(data), namespace="/dashboard")
    headers = {"Cookie": f"overlay_session_demo={cookie}", **({"Origin": origin} if origin else {})}
    try:
        await client.connect(url, namespaces=["/dashboard"], auth={"channel": "demo"}, headers=headers,
                             transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return str(refused[0].get("message") if isinstance(refused[0], dict) else refused[0])
    await client.disconnect()
    return "connected"


async def test_logout_ends_the_session_for_a_copied_cookie(make_server: Any, backend: str) -> None:
    server = await make_server(backend)
    http, url = server.http, server.url
    cookie = await log_in(http, url)
    kept = await log_in(http, url)  # another browser's session must survive this logout
    assert await api_status(http, url, cookie) == 200
    assert await dashboard_socket(url, cookie, url) == "connected"
    await log_out(http, url, cookie)
    assert await api_status(http, url, cookie) == 401
    assert await dashboard_socket(url, cookie, url) == "invalid moderator token"
    async with http.get(url + "/dashboard/demo", headers={"Cookie": f"overlay_session_demo={cookie}"}) as r:
        assert r.status == 200 and 'name="token" type="password"' in await r.text()
    assert await api_status(http, url, kept) == 200
    assert await dashboard_socket(url, kept, url) == "connected"


async def test_a_logout_on_one_instance_holds_on_another_sharing_redis(make_server: Any) -> None:
    a, b = await make_server("redis"), await make_server("redis")
    cookie = await log_in(a.http, a.url)
    assert await api_status(b.http, b.url, cookie) == 200
    await log_out(a.http, a.url, cookie)
    assert await api_status(b.http, b.url, cookie) == 401
    assert await dashboard_socket(b.url, cookie, b.url) == "invalid moderator token"


async def test_a_logout_survives_a_restart(tmp_path: Path, redis_url: str, backend: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"redis_url": redis_url if backend == "redis" else None, "data_dir": str(tmp_path / "data")},
        "channels": [channel_dict()]}))
    port = free_port()
    srv = await ServerProcess(path, port).start()
    try:
        async with aiohttp.ClientSession() as http:
            cookie, kept = await log_in(http, srv.url), await log_in(http, srv.url)
            await log_out(http, srv.url, cookie)
            assert srv.signal(signal.SIGTERM) == 0
            srv = await ServerProcess(path, port).start()
            assert await api_status(http, srv.url, cookie) == 401
            assert await api_status(http, srv.url, kept) == 200
            assert await dashboard_socket(srv.url, cookie, srv.url) == "invalid moderator token"
    finally:
        srv.stop()


async def test_the_dashboard_socket_takes_the_cookie_only_from_this_servers_pages(make_server: Any) -> None:
    server = await make_server()
    cookie = await log_in(server.http, server.url)
    assert await dashboard_socket(server.url, cookie, "http://evil.example") == "invalid moderator token"
    assert await dashboard_socket(server.url, cookie, None) == "invalid moderator token"
    assert await dashboard_socket(server.url, cookie, "http://[::1") == "invalid moderator token"
    assert await dashboard_socket(server.url, cookie, server.url) == "connected"
    # A moderator token in the auth payload is not a browser's ambient credential: no Origin needed.
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(server.url, namespaces=["/dashboard"], auth={"channel": "demo", "token": MOD_TOKEN},
                         headers={"Origin": "http://evil.example"}, transports=["websocket"], wait_timeout=10)
    await client.disconnect()
