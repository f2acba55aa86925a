"""What the kernel knows about a process: CPU time, and UDP packets it dropped."""

import os


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of every thread of the process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def udp_drops(pid: int) -> int:
    """Datagrams dropped because the process's UDP sockets' receive buffers were full."""
    return sum(udp_drops_by_port(pid).values())


def udp_drops_by_port(pid: int) -> dict[int, int]:
    """Drops per local UDP port of the process."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    drops: dict[int, int] = {}
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    port = int(fields[1].rpartition(":")[2], 16)
                    drops[port] = drops.get(port, 0) + int(fields[-1])
    return drops
