"""Per-sandbox cgroup v2 groups: create one with a memory and process limit, start a command inside
it, read whether the kernel's OOM killer fired, kill everything in it, remove it. Plain file
operations on the cgroup2 file system (Documentation/admin-guide/cgroup-v2.rst in the Linux tree);
r1lab/verify/sandbox.py decides when to use them.

A group can be made only under a cgroup v2 directory whose memory controller is enabled for its
children: the directory R1LAB_CGROUP names, else this process's own cgroup when that controller can
be enabled there (the kernel refuses it in a non-root cgroup that holds processes, such as a login
session's scope, so there this usually fails and the sandbox uses its other memory cap).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from pathlib import Path

_names = itertools.count()


def _v2_mount() -> Path | None:
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "cgroup2" and fields[3] == "/":
                return Path(fields[4])
    return None


def usable_parent(named: str | None) -> tuple[Path | None, str]:
    """(the directory sandbox groups are made in, "") or (None, why there is none). `named` is a
    directory the user chose (R1LAB_CGROUP); without it, this process's own cgroup is tried."""
    try:
        if named:
            parent = Path(named)
        else:
            mount = _v2_mount()
            if mount is None:
                return None, "no cgroup2 file system is mounted"
            with open("/proc/self/cgroup") as f:
                own = next((line[3:].strip() for line in f if line.startswith("0::")), None)
            if own is None:
                return None, "this process is in no cgroup v2"
            parent = mount / own.lstrip("/")
        available = (parent / "cgroup.controllers").read_text().split()
        if "memory" not in available:
            return None, f"the memory controller is not available in {parent}"
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        for controller in ("memory", "pids"):
            if controller in available and controller not in enabled:
                (parent / "cgroup.subtree_control").write_text(f"+{controller}")
        probe = parent / f"r1lab-probe-{os.getpid()}"
        probe.mkdir()
        try:
            usable = (probe / "memory.max").exists()
        finally:
            probe.rmdir()
        return (parent, "") if usable else (None, f"child cgroups of {parent} have no memory.max")
    except OSError as err:
        return None, f"{type(err).__name__}: {err}"


def create(parent: Path, memory_bytes: int, max_processes: int) -> Path:
    """A new group under `parent`: memory.max, no swap, the whole group killed on OOM, pids.max."""
    group = parent / f"r1lab-{os.getpid()}-{next(_names)}"
    group.mkdir()
    try:
        (group / "memory.max").write_text(str(memory_bytes))
        for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1"), ("pids.max", str(max_processes))):
            if (group / name).exists():
                (group / name).write_text(value)
    except BaseException:
        group.rmdir()
        raise
    return group


def enter_command(group: Path) -> list[str]:
    """A command prefix whose first process moves itself into `group` and then execs the rest, so that
    every process of the command starts inside the group."""
    return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(group)]


def kill(group: Path) -> None:
    """SIGKILL every process in the group."""
    if (group / "cgroup.kill").exists():  # Linux 5.14+: one write kills the whole group
        with contextlib.suppress(OSError):
            (group / "cgroup.kill").write_text("1")
        return
    with contextlib.suppress(OSError):
        for pid in (group / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


def oom_kills(group: Path) -> int:
    """How many processes of the group the kernel killed at its memory limit."""
    with contextlib.suppress(OSError):
        for line in (group / "memory.events").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    return 0


def remove(group: Path, timeout_s: float = 5.0) -> bool:
    """Kill what is left in the group and remove it (the kernel refuses while a process remains);
    False when it outlasts `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        kill(group)
        try:
            group.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
