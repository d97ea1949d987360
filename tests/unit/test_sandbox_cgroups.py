"""r1lab/verify/cgroups.py on the real cgroup2 file system, where this machine has one we may write:
a command started with `enter_command` runs in its group with all its descendants (a double-forked
daemon included), `kill` ends them all, `remove` deletes the group. Whether memory can be capped
there is `usable_parent`'s answer, which must say why when it cannot."""

import os
import subprocess
import time
import uuid

import pytest

from r1lab.verify import cgroups


@pytest.fixture
def group():
    mount = cgroups._v2_mount()
    if mount is None:
        pytest.skip("no cgroup2 file system is mounted here")
    with open("/proc/self/cgroup") as f:
        own = next((line[3:].strip() for line in f if line.startswith("0::")), None)
    if own is None:
        pytest.skip("this process is in no cgroup v2")
    path = mount / own.lstrip("/") / f"r1lab-test-{uuid.uuid4().hex[:8]}"
    try:
        path.mkdir()
    except OSError as err:
        pytest.skip(f"cannot create a cgroup here: {err}")
    yield path
    cgroups.remove(path)


def pids_in(group):
    return (group / "cgroup.procs").read_text().split()


def test_a_command_and_all_its_descendants_run_in_the_group_and_die_with_it(group):
    daemon = "(setsid sh -c 'sleep 120 & sleep 120' &); sleep 120"
    proc = subprocess.Popen(cgroups.enter_command(group) + ["sh", "-c", daemon])
    deadline = time.monotonic() + 10
    while len(pids_in(group)) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert str(proc.pid) in pids_in(group) and len(pids_in(group)) >= 4  # sh, setsid'd sh, two sleeps
    cgroups.kill(group)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while pids_in(group) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pids_in(group) == []
    assert cgroups.oom_kills(group) == 0
    assert cgroups.remove(group) and not group.exists()


def test_usable_parent_says_why_not(group):
    parent, why = cgroups.usable_parent(str(group.parent))
    controllers = (group.parent / "cgroup.controllers").read_text().split()
    if "memory" not in controllers:
        assert parent is None and "memory controller is not available" in why
    else:
        assert (parent, why) == (group.parent, "") or (parent is None and why)
    assert cgroups.usable_parent(f"/nonexistent-{os.getpid()}")[0] is None
