"""Overlay side of bench/intake.py: raw /overlay clients that log every donation.

Each client (bench/wsload.py's light client) records the (seq, donation id) of
every `donation` event in arrival order with the kernel's receive timestamp.
At the end the harness sends the list the senders were answered with; each
process checks every one of its clients against it (each donation exactly
once, in seq order) and returns, per donation, the latest receipt among its
clients.
"""
import asyncio
import json
import os
import struct
import time

import wsload

PREFIX = b'42/overlay,'


class LoggingOverlay(wsload.Overlay):
    """Keeps every donation, not only the first one after `arm`."""

    def __init__(self, loop, auth, path, parsed):
        super().__init__(loop, auth, path)
        self.log = []      # (seq, id) of each donation, in arrival order
        self.reads = []    # (len(log) after a read, kernel ns of that read)
        self.parsed = parsed  # payload bytes -> (seq, id): one broadcast, one parse

    def _frames(self, kernel_ns, user_ns):
        # With 1,000 overlays this client's core is the bench's ceiling (a donation is a
        # frame or two per overlay), so this loop does as little as it can per frame:
        # offsets instead of re-slicing the buffer, other events skipped without a copy,
        # one receipt time per read (every frame of a read arrived at the same moment).
        buf, pos, end = self.buf, 0, len(self.buf)
        log, parsed, logged = self.log, self.parsed, len(self.log)
        while end - pos >= 2 and self.sock is not None:
            opcode, size, start = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, pos + 2
            if size == 126:
                if end - pos < 4:
                    break
                size, start = struct.unpack_from('!H', buf, pos + 2)[0], pos + 4
            elif size == 127:
                if end - pos < 10:
                    break
                size, start = struct.unpack_from('!Q', buf, pos + 2)[0], pos + 10
            stop = start + size
            if end < stop:
                break
            pos = stop
            if opcode == 1 and buf.startswith(PREFIX, start, stop):
                if not buf.startswith(wsload.DONATION_PREFIX, start, stop):
                    continue  # another event (match, alert, …): not what this bench checks
                payload = buf[start:stop]
                key = parsed.get(payload)
                if key is None:
                    data = json.loads(payload[len(PREFIX):])[1]
                    key = parsed[payload] = (data['seq'], data['donation']['id'])
                log.append(key)
            else:  # pings, the connect handshake, errors
                self._message(opcode, buf[start:stop], kernel_ns, user_ns)
        self.buf = buf[pos:]
        if len(log) > logged:
            self.reads.append((len(log), kernel_ns))

    def receipts(self):
        """(seq, id, kernel ns) of each donation, in arrival order."""
        out, first = [], 0
        for last, ns in self.reads:
            out.extend((seq, did, ns) for seq, did in self.log[first:last])
            first = last
        return out


def worker_main(conn, host, port, count, auth, concurrency, core):
    """Process entry: obey (command, arg) messages from the harness."""
    if core is not None:
        os.sched_setaffinity(0, {core})
    wsload.raise_nofile()
    asyncio.run(_serve(conn, host, port, count, auth, concurrency))


async def _serve(conn, host, port, count, auth, concurrency):
    loop = asyncio.get_running_loop()
    path = '/socket.io/?EIO=4&transport=websocket'
    parsed = {}
    overlays = [LoggingOverlay(loop, auth, path, parsed) for _ in range(count)]
    while True:
        cmd, arg = await loop.run_in_executor(None, conn.recv)
        if cmd == 'connect':
            started = time.perf_counter()
            errors = await wsload.connect_many(overlays, host, port, concurrency)
            conn.send((time.perf_counter() - started, errors))
        elif cmd == 'check':
            expected, timeout = arg
            await _wait_all(overlays, len(expected), time.monotonic() + timeout)
            conn.send(check(overlays, expected))
        elif cmd == 'close':
            for o in overlays:
                o.close()
            conn.send(None)
            return


async def _wait_all(overlays, count, deadline):
    while time.monotonic() < deadline:
        if all(len(o.log) >= count or o.sock is None for o in overlays):
            return
        await asyncio.sleep(0.02)


def check(overlays, expected):
    """Compare each client's log with `expected` [(seq, id)] (seq order)."""
    latest = {}  # seq -> latest kernel receipt among clients that got it
    bad, example = 0, None
    for i, o in enumerate(overlays):
        got = o.log
        if got != expected:
            bad += 1
            example = example or describe(i, got, expected, o.sock is None)
        for seq, _, ns in o.receipts():
            if ns > latest.get(seq, 0):
                latest[seq] = ns
    return {'clients': len(overlays), 'bad': bad, 'example': example,
            'latest': latest}


def describe(index, got, expected, closed):
    want = set(expected)
    missing = len(want - set(got))
    extra = len([g for g in got if g not in want])
    dupes = len(got) - len(set(got))
    order = 'in order' if got == sorted(got) else 'OUT OF ORDER'
    return (f'client {index}: {len(got)} of {len(expected)} received, '
            f'{missing} missing, {extra} unexpected, {dupes} duplicated, '
            f'{order}' + (', connection lost' if closed else ''))
