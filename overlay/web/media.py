"""The media library (docs/editor.md): moderators upload alert images and sounds, list and
delete them; overlays load them from ``/media/{ch}/{name}``.

Files live on disk under ``<server.media_dir or storage.data_dir/media>/uploads/<channel>/``,
named by a hash of their content: a name never changes meaning, so it is cached for a
year. The folder is per host: several hosts behind one Redis need it on a shared volume.
"""
from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from overlay import keys
from overlay.config import Config
from overlay.domain import media
from overlay.service.channel import ChannelService
from overlay.web.api import CHANNEL, MODERATOR
from overlay.http.errors import ApiError
from overlay.web.feature_models import MediaFile, MediaList, MediaQuery
from overlay.web.routes import Content, Routes
from overlay.http.pages import LONG_CACHE

MEDIA_ROOT: web.AppKey[Path] = web.AppKey("media_root")
SNIFF_BYTES = 8192
# The file's bytes as the body, whatever Content-Type says: its type is read from its first bytes.
FILE = tuple(Content(mime, {"type": "string", "contentMediaType": mime})
             for mime in ("image/png", "image/gif", "image/webp", "image/jpeg", "audio/mpeg", "audio/ogg", "audio/wav",
                          "video/webm", "video/mp4",
                          "application/octet-stream"))
NAMED = {**CHANNEL, "name": {"type": "string"}}
routes = Routes()


def media_root(config: Config) -> Path:
    return Path(config.server.media_dir or Path(config.storage.data_dir) / "media") / "uploads"


def _folder(request: web.Request, channel: str) -> Path:
    return request.app[MEDIA_ROOT] / channel


def _limit(request: web.Request, kind: media.Kind) -> int:
    server = request.app[keys.CONFIG].server
    limits = {media.IMAGE: server.media_max_image_kb, media.SOUND: server.media_max_sound_kb,
              media.VIDEO: server.media_max_video_kb}
    return 1024 * limits[kind.kind]


async def _read_body(request: web.Request) -> tuple[bytes, media.Kind]:
    """The upload, refused as soon as it is known to be of a wrong type or too large."""
    biggest = max(_limit(request, k) for k in media.BY_EXT.values())
    if request.content_length is not None and request.content_length > biggest:
        raise ApiError(413, "file_too_large", f"files are limited to {biggest // 1024} KiB")
    chunks: list[bytes] = []
    size, kind = 0, None
    async for chunk in request.content.iter_chunked(65536):
        chunks.append(chunk)
        size += len(chunk)
        if kind is None and (size >= SNIFF_BYTES or not chunk):
            kind = _sniffed(b"".join(chunks))
        if kind is not None and size > _limit(request, kind):
            raise ApiError(413, "file_too_large", f"{kind.kind}s are limited to {_limit(request, kind) // 1024} KiB")
    body = b"".join(chunks)
    kind = kind or _sniffed(body)
    if size > _limit(request, kind):
        raise ApiError(413, "file_too_large", f"{kind.kind}s are limited to {_limit(request, kind) // 1024} KiB")
    return body, kind


def _sniffed(head: bytes) -> media.Kind:
    if not head:
        raise ApiError(422, "empty_file", "the body is empty: send the file's bytes")
    kind = media.sniff(head)
    if kind is None:
        raise ApiError(415, "unsupported_file", "only PNG, GIF, WebP and JPEG images, MP3, OGG and WAV sounds, "
                       "WebM and MP4 videos")
    return kind


def _quota(request: web.Request) -> media.Quota:
    server = request.app[keys.CONFIG].server
    return media.Quota(server.media_quota_mb * 1024 * 1024, server.media_quota_files)


def _write(folder: Path, name: str, body: bytes, quota: media.Quota) -> bool:
    """Write once (True if new), if the channel's quota has room for it. The files are counted
    and written under one lock on the folder, so uploads racing in any thread or worker of
    this host cannot pass the quota together."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        target = folder / name
        if target.exists():
            return False
        problem = media.over_quota(quota, [size for _, size, _ in _listing(folder)], len(body))
        if problem is not None:
            raise ApiError(413, "media_quota_exceeded", problem)
        _write_new(folder, target, body)
    return True


def _write_new(folder: Path, target: Path, body: bytes) -> None:
    """Atomically: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _describe(svc: ChannelService, path: Path, size: int) -> dict[str, Any]:
    kind = media.parse_stored(path.name)
    assert kind is not None
    return {"name": path.name, "kind": kind.kind, "type": kind.mime, "size": size,
            "url": f"/media/{svc.cfg.id}/{path.name}"}


@routes.post("/channels/{ch}/media", access=MODERATOR, query=MediaQuery, upload=FILE,
              ok={201: MediaFile, 200: MediaFile}, path_params=CHANNEL)
async def upload(request: web.Request, svc: ChannelService, query: MediaQuery) -> web.Response:
    """Upload an image, a sound or a video (200 if the same file is already there; 413 beyond the
    channel's quota, ``server.media_quota_mb`` and ``server.media_quota_files``)."""
    body, kind = await _read_body(request)
    name = media.stored_name(query.name or kind.kind, body, kind)
    folder = _folder(request, svc.cfg.id)
    created = await asyncio.to_thread(_write, folder, name, body, _quota(request))
    return web.json_response(_describe(svc, folder / name, len(body)), status=201 if created else 200)


def _listing(folder: Path) -> list[tuple[Path, int, float]]:
    if not folder.is_dir():
        return []
    found = [(p, st.st_size, st.st_mtime) for p in folder.iterdir()
             if media.parse_stored(p.name) and (st := p.stat())]
    return sorted(found, key=lambda f: -f[2])


@routes.get("/channels/{ch}/media", access=MODERATOR, ok={200: MediaList}, path_params=CHANNEL)
async def list_media(request: web.Request, svc: ChannelService) -> web.Response:
    """The channel's media, newest first."""
    found = await asyncio.to_thread(_listing, _folder(request, svc.cfg.id))
    return web.json_response({"media": [_describe(svc, p, size) for p, size, _ in found]})


@routes.delete("/channels/{ch}/media/{name}", access=MODERATOR, ok={204: None}, path_params=NAMED)
async def delete_media(request: web.Request, svc: ChannelService) -> web.Response:
    """Delete a file (overlays still using it lose it)."""
    name = request.match_info["name"]
    if media.parse_stored(name) is None:
        raise ApiError(404, "media_not_found", "no such file")
    path = _folder(request, svc.cfg.id) / name
    try:
        await asyncio.to_thread(path.unlink)
    except FileNotFoundError:
        raise ApiError(404, "media_not_found", "no such file") from None
    return web.Response(status=204)


async def serve(request: web.Request) -> web.Response:
    """Public like any alert sound: overlays load it without a key. Only names we gave are served."""
    channel, name = request.match_info["ch"], request.match_info["name"]
    kind = media.parse_stored(name)
    if kind is None or request.app[keys.REGISTRY].settings(channel) is None:
        raise web.HTTPNotFound()
    try:
        body = await asyncio.to_thread((_folder(request, channel) / name).read_bytes)
    except FileNotFoundError:
        raise web.HTTPNotFound() from None
    return web.Response(body=body, content_type=kind.mime,
                        headers={"Cache-Control": LONG_CACHE, "X-Content-Type-Options": "nosniff"})


def setup_media(app: web.Application, config: Config) -> None:
    app[MEDIA_ROOT] = media_root(config)
    routes.add_to(app)
    app.router.add_get("/media/{ch}/{name}", serve)
