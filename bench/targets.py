"""Start, watch and stop a server under test, pinned to one core."""
import os
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field

BENCH = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(BENCH, 'node')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def node_command() -> str:
    if not os.path.isdir(os.path.join(NODE_DIR, 'node_modules')):
        # the lock file pins socket.io; npm ci installs exactly that
        subprocess.run(['npm', 'ci', '--no-audit', '--no-fund'],
                       cwd=NODE_DIR, check=True)
    return 'node ' + shlex.quote(os.path.join(NODE_DIR, 'server.js')) + \
        ' --port {port}'


@dataclass
class Target:
    label: str
    command: str  # shell command; {port} is substituted
    core: int | None
    port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, timeout=20.0):
        self.port = free_port()
        argv = ['/bin/sh', '-c', self.command.replace('{port}', str(self.port))]
        if self.core is not None:
            argv = ['taskset', '-c', str(self.core)] + argv
        # own session: stop() signals exactly this process group
        self.proc = subprocess.Popen(argv, start_new_session=True,
                                     stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f'{self.label} exited: {self.command}')
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f'{self.label} did not listen in time')
            time.sleep(0.05)

    def rss_bytes(self) -> int:
        """Resident memory of the server and every process under it."""
        return sum(_rss(pid) for pid in _tree(self.proc.pid))

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def _listening(port) -> bool:
    with socket.socket() as s:
        return s.connect_ex(('127.0.0.1', port)) == 0


def _tree(root: int) -> list[int]:
    children = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open(f'/proc/{name}/stat') as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def _rss(pid: int) -> int:
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
