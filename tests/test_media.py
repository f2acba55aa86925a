"""The media library over HTTP: content checks, limits, names, caching, both stores."""
from __future__ import annotations

import io
from pathlib import Path
from collections.abc import AsyncIterator
from typing import Any

import pytest

from overlay.domain import media
from tests.support import AUTH, OVERLAY_KEY

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "media"
MEDIA = "/api/v1/channels/demo/media"
RAW = {**AUTH, "Content-Type": "application/octet-stream"}


async def upload(server: Any, filename: str, body: Any) -> tuple[int, Any]:
    return await server.request("POST", f"{MEDIA}?name={filename}", data=body, headers=RAW)


async def chunked(body: bytes) -> AsyncIterator[bytes]:
    """A body sent without Content-Length: the server must stop reading at its limit by itself."""
    for i in range(0, len(body), 65536):
        yield body[i:i + 65536]


@pytest.mark.parametrize(("fixture", "kind", "ext"), [
    ("green.png", "image", "png"), ("pixel.gif", "image", "gif"), ("pixel.webp", "image", "webp"),
    ("silence.mp3", "sound", "mp3"), ("tone.ogg", "sound", "ogg"), ("tone.wav", "sound", "wav"),
    ("blue.jpg", "image", "jpg"), ("tone.webm", "video", "webm"), ("tone.mp4", "video", "mp4")])
def test_each_format_is_known_by_its_content(fixture: str, kind: str, ext: str) -> None:
    found = media.sniff((FIXTURES / fixture).read_bytes())
    assert found is not None and (found.kind, found.ext) == (kind, ext)


async def test_upload_list_serve_delete(server: Any) -> None:
    body = (FIXTURES / "green.png").read_bytes()
    # The name says GIF; the bytes say PNG: the bytes win.
    status, saved = await upload(server, "Big Heart!.gif", body)
    assert status == 201, saved
    assert saved["kind"] == "image" and saved["type"] == "image/png" and saved["size"] == len(body)
    assert media.parse_stored(saved["name"]) and saved["name"].startswith("big-heart.") and saved["name"].endswith(".png")
    assert (await upload(server, "again.png", body))[0] in (200, 201)  # same bytes: stored once more at most
    status, sound = await upload(server, "ding.wav", (FIXTURES / "tone.wav").read_bytes())
    assert status == 201 and sound["kind"] == "sound"

    status, listed = await server.request("GET", MEDIA)
    assert status == 200 and {saved["name"], sound["name"]} <= {m["name"] for m in listed["media"]}

    async with server.http.get(server.url + saved["url"]) as r:  # public: overlays load it without a key
        assert r.status == 200 and await r.read() == body
        assert r.headers["Content-Type"] == "image/png" and "immutable" in r.headers["Cache-Control"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"

    assert (await server.request("DELETE", f"{MEDIA}/{saved['name']}"))[0] == 204
    async with server.http.get(server.url + saved["url"]) as r:
        assert r.status == 404
    assert (await server.request("DELETE", f"{MEDIA}/{saved['name']}"))[0] == 404


async def test_wrong_type_empty_and_oversize_are_refused(make_server: Any, backend: str, tmp_path: Path) -> None:
    server = await make_server(backend)
    cases = [
        (b"<html><script>alert(1)</script></html>", "evil.png", 415, "unsupported_file"),
        (b"GIF8", "short.gif", 415, "unsupported_file"),
        (b"", "empty.png", 422, "empty_file"),
    ]
    huge = b"\x89PNG\r\n\x1a\n" + b"\0" * 4 + b"IHDR" + b"\0" * (3 * 1024 * 1024)  # over the 2 MiB for images
    cases += [(io.BytesIO(huge), "huge.png", 413, "file_too_large"),
              (chunked(huge), "huge.png", 413, "file_too_large")]
    for body, name, status, code in cases:
        got, data = await upload(server, name, body)
        assert (got, data["error"]["code"]) == (status, code), (name, data)
    assert (await server.request("GET", MEDIA))[1]["media"] == []


def test_look_alikes_of_the_video_formats_are_refused() -> None:
    webm = (FIXTURES / "tone.webm").read_bytes()
    mp4 = (FIXTURES / "tone.mp4").read_bytes()
    assert media.sniff(webm.replace(b"webm", b"mkvx", 1)) is None      # Matroska, not WebM
    assert media.sniff(mp4[:8] + b"qt  " + b"\0" * 8) is None          # a QuickTime brand only
    assert media.sniff(b"\xff\xd8\xff") is None                        # a JPEG start and nothing more
    assert media.sniff(b"\0\0\0\x18ftypisom<script>") is None        # a box size past the bytes


async def test_jpeg_and_videos_are_taken_by_content_and_videos_have_their_own_limit(server: Any) -> None:
    # A video renamed .png is stored and served as what it is.
    status, saved = await upload(server, "cheer.png", (FIXTURES / "tone.mp4").read_bytes())
    assert status == 201 and saved["kind"] == "video" and saved["name"].endswith(".mp4"), saved
    async with server.http.get(server.url + saved["url"]) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "video/mp4"
    status, saved = await upload(server, "sky.jpeg", (FIXTURES / "blue.jpg").read_bytes())
    assert status == 201 and (saved["kind"], saved["type"]) == ("image", "image/jpeg"), saved
    # Beyond server.media_max_video_kb (20 MiB by default): refused while it streams in.
    huge = (FIXTURES / "tone.webm").read_bytes() + b"\0" * (21 * 1024 * 1024)
    status, data = await upload(server, "long.webm", chunked(huge))
    assert (status, data["error"]["code"]) == (413, "file_too_large"), data
    assert "videos are limited to 20480 KiB" in data["error"]["message"]


async def test_path_tricks_find_nothing(server: Any, tmp_path: Path) -> None:
    status, saved = await upload(server, "../../etc/passwd.png", (FIXTURES / "green.png").read_bytes())
    assert status == 201 and "/" not in saved["name"] and saved["name"].startswith("passwd.")
    for name in ("..%2F..%2Fconfig.yaml", "%2Eenv", "x.0123456789abcdef.html", "..", "a%00.png"):
        async with server.http.get(f"{server.url}/media/demo/{name}") as r:
            assert r.status == 404, name
        got, data = await server.request("DELETE", f"{MEDIA}/{name}")
        assert got == 404, (name, data)
    async with server.http.get(f"{server.url}/media/other/{saved['name']}") as r:
        assert r.status == 404  # another channel's folder is not ours


async def test_media_writes_are_for_moderators_only(server: Any) -> None:
    for method, path in (("POST", MEDIA), ("GET", MEDIA), ("DELETE", f"{MEDIA}/x.0123456789abcdef.png")):
        got, data = await server.request(method, path, data=b"GIF89a", headers={"Authorization": f"Bearer {OVERLAY_KEY}"})
        assert got == 401 and data["error"]["code"] == "unauthorized"
