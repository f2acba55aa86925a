"""Load clients: raw engine.io v4 / socket.io v5 over WebSocket, no library.

A worker process holds many overlay connections on one event loop. Each
socket asks the kernel for receive timestamps (SO_TIMESTAMPNS), so a receipt
time is when the frame reached the client's socket, not when this busy
Python loop got round to it: with 10,000 sockets the loop itself would
otherwise dominate the figure being measured.
"""
import asyncio
import base64
import json
import os
import socket
import struct
import time

# Linux: SO_TIMESTAMPNS (== SCM_TIMESTAMPNS); Python does not export it.
SO_TIMESTAMPNS = 35
DONATION_PREFIX = b'42/overlay,["donation"'


def masked_text_frame(text: str) -> bytes:
    """Client-to-server frames must be masked (RFC 6455 5.3)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack('!BB', 0x81, 0x80 | size)
    else:
        header = struct.pack('!BBH', 0x81, 0x80 | 126, size)
    mask = os.urandom(4)
    key = int.from_bytes((mask * (size // 4 + 1))[:size], 'big')
    body = (int.from_bytes(payload, 'big') ^ key).to_bytes(size, 'big')
    return header + mask + body


class Overlay:
    """One connection; `ready` resolves once the namespace is joined."""

    def __init__(self, loop, auth: dict, path: str):
        self.loop = loop
        self.auth = json.dumps(auth)
        self.path = path
        self.ready = loop.create_future()
        self.buf = b''
        self.upgraded = False
        self.received = None  # (kernel ns, user ns) of the armed donation
        self.sock = None

    async def connect(self, host, port):
        sock = self.sock = socket.socket()
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        await self.loop.sock_connect(sock, (host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        sock.send((f'GET {self.path} HTTP/1.1\r\nHost: {host}:{port}\r\n'
                   'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                   f'Sec-WebSocket-Key: {key}\r\n'
                   'Sec-WebSocket-Version: 13\r\n\r\n').encode())
        self.loop.add_reader(sock.fileno(), self._on_readable)
        await self.ready

    def close(self):
        if self.sock is not None:
            self.loop.remove_reader(self.sock.fileno())
            # reset, not FIN: 10,000 client ports in TIME_WAIT per run make
            # the next run's connect() slow (port search) and skew its figures
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack('ii', 1, 0))
            self.sock.close()
            self.sock = None

    def _fail(self, why):
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        self.close()

    def _on_readable(self):
        try:
            data, anc, _, _ = self.sock.recvmsg(262144, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            return self._fail(str(exc))
        if not data:
            return self._fail('closed by server')
        user_ns = time.time_ns()
        kernel_ns = user_ns
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack('qq', cdata[:16])
                kernel_ns = sec * 1_000_000_000 + nsec
        self.buf += data
        if not self.upgraded and not self._handshake():
            return
        self._frames(kernel_ns, user_ns)

    def _handshake(self) -> bool:
        end = self.buf.find(b'\r\n\r\n')
        if end < 0:
            return False
        if not self.buf.startswith(b'HTTP/1.1 101'):
            self._fail(self.buf[:end].decode(errors='replace'))
            return False
        self.buf = self.buf[end + 4:]
        self.upgraded = True
        return True

    def _frames(self, kernel_ns, user_ns):
        buf = self.buf
        while len(buf) >= 2 and self.sock is not None:
            opcode, size, start = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    break
                size, start = struct.unpack('!H', buf[2:4])[0], 4
            elif size == 127:
                if len(buf) < 10:
                    break
                size, start = struct.unpack('!Q', buf[2:10])[0], 10
            if len(buf) < start + size:
                break
            payload, buf = buf[start:start + size], buf[start + size:]
            self._message(opcode, payload, kernel_ns, user_ns)
        self.buf = buf

    def _message(self, opcode, payload, kernel_ns, user_ns):
        if opcode == 8:
            return self._fail('websocket closed')
        if opcode == 9:  # websocket-level ping
            self.sock.send(b'\x8a\x80' + os.urandom(4))
            return
        if payload == b'2':  # engine.io ping
            self.sock.send(masked_text_frame('3'))
        elif payload.startswith(DONATION_PREFIX):
            if self.received is None:
                self.received = (kernel_ns, user_ns)
        elif payload[:1] == b'0':  # engine.io open
            self.sock.send(masked_text_frame('40/overlay,' + self.auth))
        elif payload.startswith(b'40/overlay,'):
            if not self.ready.done():
                self.ready.set_result(None)
        elif payload.startswith(b'44/overlay,'):
            self._fail('connect_error ' + payload.decode(errors='replace'))


async def connect_many(overlays, host, port, concurrency):
    """Connect all, at most `concurrency` handshakes in flight."""
    gate = asyncio.Semaphore(concurrency)
    errors = []

    async def one(o):
        async with gate:
            try:
                await asyncio.wait_for(o.connect(host, port), 30)
            except (OSError, asyncio.TimeoutError) as exc:
                errors.append(repr(exc))
                o.close()

    await asyncio.gather(*(one(o) for o in overlays))
    return errors


def raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def worker_main(conn, host, port, count, auth, concurrency, core):
    """Process entry: obey (command, arg) messages from the harness."""
    if core is not None:
        os.sched_setaffinity(0, {core})
    raise_nofile()
    asyncio.run(_serve(conn, host, port, count, auth, concurrency))


async def _serve(conn, host, port, count, auth, concurrency):
    loop = asyncio.get_running_loop()
    path = '/socket.io/?EIO=4&transport=websocket'
    overlays = [Overlay(loop, auth, path) for _ in range(count)]
    while True:
        cmd, arg = await loop.run_in_executor(None, conn.recv)
        if cmd == 'connect':
            started = time.perf_counter()
            errors = await connect_many(overlays, host, port, concurrency)
            conn.send((time.perf_counter() - started, errors))
        elif cmd == 'arm':
            for o in overlays:
                o.received = None
            conn.send(None)
        elif cmd == 'collect':
            conn.send(await _collect(overlays, deadline=time.monotonic() + arg))
        elif cmd == 'close':
            for o in overlays:
                o.close()
            conn.send(None)
            return


async def _collect(overlays, deadline):
    """Receipts of the armed donation; None for a client that missed it."""
    live = [o for o in overlays if o.sock is not None]
    while time.monotonic() < deadline:
        if all(o.received is not None for o in live):
            break
        await asyncio.sleep(0.01)
    return [o.received for o in live]
