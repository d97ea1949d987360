"""Run untrusted programs in isolated, limited, fully reaped process trees.

Three mechanisms, best first; the first one that works here is used and any step down is announced
once on stderr with what it no longer guarantees. `choose_mechanism()` says which one is in force.
The environment variable R1LAB_SANDBOX=bwrap|unshare|process forces exactly that one: when it does
not work here, sandboxing fails with an error that says why, instead of falling back.

- `bwrap` (bubblewrap, Debian package `bubblewrap`): new pid, network, IPC, UTS and mount namespaces.
  The file system is built from nothing: /usr and the Python installation read-only, a fresh /proc
  and /dev, and a size-limited tmpfs scratch directory at /tmp that is the working directory. The
  environment is cleared. When the parent dies the sandbox dies (--die-with-parent), and when the
  sandbox's first process ends the kernel kills everything left in its pid namespace.
- `unshare` (util-linux): the same namespaces but no private file system: the program can read
  whatever its uid may read on the host (world-readable files); the scratch directory is only its
  working directory, and only file size (not the total) is limited.
- `process`: a plain child process with the resource limits below. No network isolation, no private
  file system, no pid namespace.

In every mechanism the limits are set before the first exec by util-linux's `prlimit`: RLIMIT_CPU
(per process), RLIMIT_AS (memory, per process), RLIMIT_FSIZE, RLIMIT_NOFILE and RLIMIT_CORE=0. As
root, the program then runs under a uid of its own (a fresh one per live sandbox, dropped to by
`setpriv` with no capabilities and no_new_privs), and at the end `kill -9 -1` run as that uid reaps
anything that escaped the process group or the namespace. Wall time and output size are enforced by
the parent (`supervise`), which kills the whole tree when either runs out.

Memory is capped for the sandbox as a whole, not per process (`memory_cap()` says how; the CLI
prints it and a "memory" verdict names it), in one of two ways:
- `cgroup`: each sandbox gets its own cgroup v2 (r1lab/verify/cgroups.py) with memory.max = the
  memory limit (no swap, the whole group killed on OOM) and pids.max = the process limit. Used where
  a cgroup v2 directory with the memory controller can take child groups: the one R1LAB_CGROUP
  names (an error when it cannot), else this process's own cgroup when the memory controller can be
  enabled for its children (the root cgroup, or a delegated one).
- `single-process`: otherwise the program may not create any other process or thread
  (RLIMIT_NPROC=1, set just before the program starts), so the per-process RLIMIT_AS is its total.
  A program that starts a thread or a subprocess fails to, and its verdict says why.
If neither holds (root without setpriv: RLIMIT_NPROC does not bind root), the cap is per process
only, and this is announced as a warning.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from r1lab.errors import ConfigError
from r1lab.verify import cgroups

Mechanism = Literal["bwrap", "unshare", "process"]
MECHANISMS: tuple[Mechanism, ...] = ("bwrap", "unshare", "process")
MemoryCap = Literal["cgroup", "single-process", "per-process"]
MEMORY_CAP_TEXT = {
    "cgroup": "a cgroup v2 per sandbox caps all its processes together",
    "single-process": "one process per sandbox (no fork, no threads), so the per-process cap is the total",
    "per-process": "per process only (a program with N processes may use N times the cap)",
}
LOST = {
    "unshare": "bubblewrap (bwrap) is unavailable: sandboxed programs can READ the host file system "
               "(whatever is world-readable) and the scratch space is not size-limited",
    "process": "no namespaces are available: sandboxed programs can use the NETWORK, READ the host "
               "file system and see host processes; only resource limits and the uid apply",
}
# Per-sandbox uids (root only): a block per r1lab process, a slot per live sandbox.
UID_BASE, UID_SLOTS = 1_500_000, 256
SCRATCH = "/tmp"  # the scratch directory's path inside a bwrap sandbox
PRIMARY_GRACE_S = 0.5


class SandboxWarning(RuntimeWarning):
    pass


class SandboxError(RuntimeError):
    """The sandbox could not be started (not the program's fault)."""


class SandboxUnavailable(SandboxError, ConfigError):
    """No sandbox works with this machine and these settings (R1LAB_SANDBOX, R1LAB_CGROUP, missing
    tools): the user can fix it, and the CLI says so in one line."""


@dataclass(frozen=True)
class Limits:
    wall_s: float = 10.0  # enforced by the parent
    cpu_s: float = 10.0  # RLIMIT_CPU, per process
    memory_mb: int = 512  # the sandbox's total: cgroup memory.max, and RLIMIT_AS per process
    max_processes: int = 16  # cgroup pids.max, and RLIMIT_NPROC on the sandbox's own uid (root only)
    output_bytes: int = 4 << 20  # stdout + stderr kept; more and the sandbox is killed
    scratch_bytes: int = 32 << 20  # size of the /tmp tmpfs (bwrap) and largest file (RLIMIT_FSIZE)
    open_files: int = 64


@dataclass
class Outcome:
    """How one sandboxed process ended."""

    exit_code: int | None  # None when it was ended by a signal
    signal: int | None  # the signal that ended the program (SIGKILL when the parent killed it)
    stdout: bytes
    stderr: bytes
    timed_out: bool  # the parent killed it at the wall-time limit
    output_exceeded: bool  # the parent killed it for printing more than output_bytes
    wall_s: float
    uid: int | None  # the host uid it ran under (root only)

    killed: bool = False  # the parent killed it (wall time, output size)
    memory_exceeded: bool = False  # the kernel killed a process of its cgroup at the memory limit
    cpu_s: float = 0.0  # CPU time of the sandbox's processes (those reaped before it ended)
    cpu_limit_s: float = float("inf")
    memory_limit_mb: int = 0

    @property
    def cpu_exceeded(self) -> bool:
        """Ended by the CPU limit: SIGXCPU at the soft limit, or SIGKILL at the hard one when we did
        not send it and the CPU time is there (a program that ignores SIGXCPU)."""
        if self.signal == signal.SIGXCPU:
            return True
        return self.signal == signal.SIGKILL and not self.killed and self.cpu_s >= self.cpu_limit_s - 0.05


@dataclass
class Running:
    """A started sandbox; pass it to `supervise`, which reaps it."""

    proc: subprocess.Popen
    limits: Limits
    mechanism: Mechanism
    uid: int | None
    started: float
    scratch: str | None = None  # host scratch directory to remove (unshare/process mechanisms)
    cgroup: Path | None = None  # the sandbox's own cgroup (memory cap "cgroup")
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    timed_out: bool = False
    output_exceeded: bool = False
    killed: bool = False  # the parent killed it while it was running
    reaped: bool = False  # the kill sweep has been done


# ------------------------------------------------------------------------------------------ uids
_uid_lock = threading.Lock()
_uids_in_use: set[int] = set()


def _is_root() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def uid_block() -> range:
    """The host uids this process gives its sandboxes."""
    start = UID_BASE + (os.getpid() % 100_000) * UID_SLOTS
    return range(start, start + UID_SLOTS)


def _take_uid() -> int | None:
    if not _is_root():
        return None
    with _uid_lock:
        for uid in uid_block():
            if uid not in _uids_in_use:
                _uids_in_use.add(uid)
                return uid
    raise SandboxError(f"more than {UID_SLOTS} sandboxes alive at once")


def _release_uid(uid: int | None) -> None:
    with _uid_lock:
        _uids_in_use.discard(uid)


def reap_uid(uid: int | None) -> None:
    """Kill every process of `uid` on the host: kill(-1, SIGKILL) made as that uid signals exactly
    them, never the caller (the shell's builtin kill; sh is always there, procps' kill may not be)."""
    if uid is not None:
        subprocess.run(["sh", "-c", "kill -9 -1"], user=uid, group=uid, extra_groups=[], cwd="/",
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def processes_of(uids: int | range) -> list[int]:
    """Pids of live processes whose real uid is in `uids` (for tests: nothing may be left behind)."""
    uids = range(uids, uids + 1) if isinstance(uids, int) else uids
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) in uids:
                            found.append(int(entry))
                        break
        except OSError:
            continue
    return found


# ------------------------------------------------------------------------------------ command lines
def python_executable() -> str:
    """The interpreter sandboxes run: the base installation behind this (possibly virtual) env."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def _prlimit(limits: Limits, uid: int | None) -> list[str]:
    # Soft limit first (SIGXCPU, so a CPU overrun is told apart from our SIGKILL), hard one second later.
    # RLIMIT_NPROC only with a uid of the sandbox's own: otherwise it would count every process of the
    # user running r1lab, and bwrap or unshare could not even start.
    cpu = max(1, int(limits.cpu_s + 0.999))
    nproc = [f"--nproc={limits.max_processes}"] if uid is not None else []
    return ["prlimit", f"--cpu={cpu}:{cpu + 1}", f"--as={limits.memory_mb << 20}",
            f"--fsize={limits.scratch_bytes}", f"--nofile={limits.open_files}", "--core=0", *nproc, "--"]


# Set inside the namespaces, just before the uid drop (root is exempt from RLIMIT_NPROC, and setpriv
# must still be root to reach an interpreter under a private directory such as /root): the program is
# then its uid's only process (without root, the user already has others), so the kernel refuses it
# any fork, clone or thread.
SINGLE_PROCESS = ["prlimit", "--nproc=1", "--"]


def _drop(uid: int | None) -> list[str]:
    if uid is None:
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", "--"]


def _read_only_system() -> list[str]:
    """/usr, the top-level links into it (merged-/usr systems) and the Python installation."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    prefix = os.path.realpath(sys.base_prefix)
    if not prefix.startswith("/usr/"):
        # Parents are created world-traversable: on the host they may be private (/root is 0700).
        parts = prefix.strip("/").split("/")
        for i in range(1, len(parts)):
            args += ["--perms", "0755", "--dir", "/" + "/".join(parts[:i])]
        args += ["--ro-bind", prefix, prefix]
    return args


def _bwrap(limits: Limits, uid: int | None, files: dict[str, int]) -> list[str]:
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if uid is None:
        args += ["--unshare-user"]  # unprivileged: namespaces come from a user namespace
    else:
        # As root, no user namespace: setpriv inside drops to the sandbox's uid (which keeps
        # RLIMIT_NPROC meaningful), so only the capabilities it needs for that are kept until then.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--cap-add", "CAP_SETPCAP"]
    args += _read_only_system()
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(limits.scratch_bytes), "--tmpfs", SCRATCH, "--chmod", "1777", SCRATCH]
    for name, fd in files.items():
        args += ["--perms", "0644", "--file", str(fd), f"{SCRATCH}/{name}"]
    args += ["--clearenv"]
    for key, value in _environment(SCRATCH).items():
        args += ["--setenv", key, value]
    return args + ["--chdir", SCRATCH, "--"]


def _unshare(uid: int | None) -> list[str]:
    args = ["unshare", "--pid", "--fork", "--kill-child", "--net", "--ipc", "--uts", "--mount",
            "--mount-proc"]
    if uid is None:
        args.insert(1, "--map-root-user")
        args.insert(1, "--user")
    # A shell as the namespace's first process, so that the program is not it: the first process of a
    # pid namespace ignores every signal it has no handler for (its own SIGKILL and SIGXCPU included).
    return args + ["--", "sh", "-c", '"$@"; exit $?', "sh"]


def _environment(home: str) -> dict[str, str]:
    """Everything a sandboxed program sees of the environment: no inherited variable at all."""
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8"}


# ----------------------------------------------------------------------------------------- spawning
def spawn(argv: list[str], limits: Limits, *, stdin: int | None = None, pass_fds: tuple[int, ...] = (),
          files: dict[str, bytes] | None = None, mechanism: Mechanism | None = None,
          memory: MemoryCap | None = None) -> Running:
    """Start `argv` in a new sandbox (the working directory is the scratch directory, where `files`
    are placed). `stdin` is a file descriptor (default /dev/null); `pass_fds` stay open inside.
    `mechanism` and `memory` default to what `choose_mechanism()` and `memory_cap()` chose."""
    mechanism = mechanism or choose_mechanism()
    memory = memory or memory_cap()
    uid = _take_uid()
    scratch = cgroup = None
    opened: list[int] = []
    try:
        cgroup = _new_cgroup(limits) if memory == "cgroup" else None
        enter = cgroups.enter_command(cgroup) if cgroup else []
        inner = (SINGLE_PROCESS if memory == "single-process" else []) + _drop(uid) + argv
        if mechanism == "bwrap":
            fds = {}
            for name, data in (files or {}).items():
                fds[name] = data_fd(data)
                opened.append(fds[name])
            command = enter + _prlimit(limits, uid) + _bwrap(limits, uid, fds) + inner
            cwd, env = "/", _environment(SCRATCH)
        else:
            scratch = _host_scratch(uid, files or {})
            wrapper = _unshare(uid) if mechanism == "unshare" else []
            command = enter + _prlimit(limits, uid) + wrapper + inner
            cwd, env = scratch, _environment(scratch)
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL if stdin is None else stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                                pass_fds=tuple(pass_fds) + tuple(opened), start_new_session=True)
    except BaseException:
        _release_uid(uid)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        if cgroup:
            _remove_cgroup(cgroup)
        raise
    finally:
        for fd in opened:
            os.close(fd)
    return Running(proc, limits, mechanism, uid, time.monotonic(), scratch, cgroup)


def data_fd(data: bytes) -> int:
    """A read-only descriptor on an unlinked temporary file holding `data` (bwrap --file reads it)."""
    with tempfile.TemporaryFile() as f:
        f.write(data)
        f.flush()
        return os.open(f"/proc/self/fd/{f.fileno()}", os.O_RDONLY)


def _host_scratch(uid: int | None, files: dict[str, bytes]) -> str:
    scratch = tempfile.mkdtemp(prefix="r1lab-sandbox-")
    for name, data in files.items():
        with open(os.path.join(scratch, name), "wb") as f:
            f.write(data)
    if uid is not None:
        for name in [".", *files]:
            os.chown(os.path.join(scratch, name), uid, uid)
    return scratch


# --------------------------------------------------------------------------------------- supervising
def supervise(runs: list[Running], deadline: float, primary: Running | None = None) -> list[Outcome]:
    """Collect output until every sandbox has ended, killing any that prints too much and all of them
    at `deadline` (time.monotonic()). When `primary` ends, the others get PRIMARY_GRACE_S to end by
    themselves (the program's server stops when the judge hangs up) and are then killed. Always reaps."""
    selector = selectors.DefaultSelector()
    try:
        for run in runs:
            selector.register(run.proc.stdout, selectors.EVENT_READ, (run, run.stdout))
            selector.register(run.proc.stderr, selectors.EVENT_READ, (run, run.stderr))
        grace_end = None
        while any(_alive(r) for r in runs) or selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                for run in runs:
                    run.timed_out = _alive(run)
                    _kill(run)
                break
            if primary is not None and grace_end is None and not _alive(primary):
                grace_end = time.monotonic() + PRIMARY_GRACE_S
            for run in runs:
                if grace_end is not None and time.monotonic() >= grace_end:
                    _kill(run)
                elif run.mechanism == "process" and not _alive(run):
                    _kill(run)  # ended, but a leftover child may still hold its pipes open
            if not selector.get_map():
                time.sleep(min(left, 0.005))
                continue
            for key, _ in selector.select(timeout=min(left, 0.05)):
                _drain(selector, key)
    finally:
        selector.close()
        outcomes = [_finish(run) for run in runs]
    return outcomes


def _drain(selector: selectors.BaseSelector, key: selectors.SelectorKey) -> None:
    run, buffer = key.data
    try:
        chunk = os.read(key.fd, 1 << 16)
    except OSError:
        chunk = b""
    if not chunk:
        selector.unregister(key.fileobj)
        return
    room = run.limits.output_bytes - len(run.stdout) - len(run.stderr)
    buffer += chunk[: max(room, 0)]
    if len(chunk) > room:
        run.output_exceeded = True
        _kill(run)


def _kill(run: Running) -> None:
    """Kill the sandbox's process group and everything its uid owns (once)."""
    if run.reaped:
        return
    run.reaped = True
    if _alive(run):
        run.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.proc.pid, signal.SIGKILL)
    if run.cgroup:
        cgroups.kill(run.cgroup)
    reap_uid(run.uid)


def _alive(run: Running) -> bool:
    """Whether the sandbox's first process still runs; it is not reaped here (WNOWAIT), so that
    _finish can collect its resource usage with wait4."""
    if run.proc.returncode is not None:
        return False
    try:
        return os.waitid(os.P_PID, run.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


def _finish(run: Running) -> Outcome:
    if _alive(run):
        _kill(run)
    # wait4 gives the CPU time of the sandbox's whole reaped process tree (it tells a CPU-limit kill
    # from any other SIGKILL); Popen is told the status so that it never waits again.
    _, status, usage = os.wait4(run.proc.pid, 0)
    code = run.proc.returncode = os.waitstatus_to_exitcode(status)
    for stream in (run.proc.stdout, run.proc.stderr):
        stream.close()
    # Under bwrap, a program that ended by itself ended bwrap's init, and the kernel emptied the pid
    # namespace before bwrap returned. Otherwise (killed, or no namespace) sweep its uid until empty.
    if run.killed or run.mechanism != "bwrap":
        if _gone(run.uid):
            _release_uid(run.uid)
        else:
            _announce(f"processes of sandbox uid {run.uid} survived SIGKILL; the uid is not reused")
    else:
        _release_uid(run.uid)
    if run.scratch:
        shutil.rmtree(run.scratch, ignore_errors=True)
    memory_exceeded = False
    if run.cgroup:
        memory_exceeded = cgroups.oom_kills(run.cgroup) > 0
        _remove_cgroup(run.cgroup)
    exit_code, sig = _decode_status(code, run)
    return Outcome(exit_code, sig, bytes(run.stdout), bytes(run.stderr), run.timed_out,
                   run.output_exceeded, time.monotonic() - run.started, run.uid, run.killed,
                   memory_exceeded, usage.ru_utime + usage.ru_stime, run.limits.cpu_s,
                   run.limits.memory_mb)


def _gone(uid: int | None, timeout_s: float = 5.0) -> bool:
    """Kill `uid`'s processes until none is left (a fork may race one sweep); False if they outlast it."""
    if uid is None:
        return True
    deadline = time.monotonic() + timeout_s
    while processes_of(uid):
        if time.monotonic() > deadline:
            return False
        reap_uid(uid)
        time.sleep(0.002)
    return True


def _decode_status(code: int, run: Running) -> tuple[int | None, int | None]:
    if run.killed:
        return None, signal.SIGKILL
    if code < 0:
        return None, -code
    # bwrap and the shell under unshare report a program ended by signal N as exit status 128 + N.
    if code > 128 and code - 128 < signal.NSIG and run.mechanism in ("bwrap", "unshare"):
        return None, code - 128
    # unshare --fork re-raises its child's fatal signal on itself, but cannot for SIGKILL (signal()
    # refuses SIG_DFL for it) and exits 1 with this message instead.
    if run.mechanism == "unshare" and code == 1 and run.stderr.endswith(b"sigprocmask unblock failed: Invalid argument\n"):
        return None, signal.SIGKILL
    return code, None


def run(argv: list[str], limits: Limits, *, stdin: int | None = None,
        files: dict[str, bytes] | None = None, mechanism: Mechanism | None = None,
        memory: MemoryCap | None = None) -> Outcome:
    """Spawn one sandbox and supervise it to the end."""
    running = spawn(argv, limits, stdin=stdin, files=files, mechanism=mechanism, memory=memory)
    return supervise([running], running.started + limits.wall_s)[0]


# ------------------------------------------------------------------------------------ choosing one
def _works(mechanism: Mechanism) -> tuple[bool, str]:
    needed = {"bwrap": ["bwrap", "prlimit"], "unshare": ["unshare", "prlimit"], "process": ["prlimit"]}
    missing = [tool for tool in needed[mechanism] if shutil.which(tool) is None]
    if missing:
        return False, f"{', '.join(missing)} not found"
    probe = "import os, sys; sys.stdout.write(str(os.getuid()))"
    try:
        outcome = run([python_executable(), "-I", "-S", "-c", probe], Limits(wall_s=20), mechanism=mechanism,
                      memory="per-process")
    except (OSError, SandboxError) as err:
        return False, str(err)
    if outcome.exit_code != 0:
        return False, outcome.stderr.decode(errors="replace").strip()[-300:] or f"exit {outcome.exit_code}"
    return True, ""


@functools.cache
def choose_mechanism() -> Mechanism:
    """The best mechanism that runs a probe program here, or the one R1LAB_SANDBOX forces; announces
    every step down on stderr."""
    forced = os.environ.get("R1LAB_SANDBOX", "").strip()
    if forced and forced not in MECHANISMS:
        raise SandboxUnavailable(f"R1LAB_SANDBOX={forced!r}: expected one of {', '.join(MECHANISMS)}")
    if forced:
        ok, why = _works(forced)  # type: ignore[arg-type]
        if not ok:
            raise SandboxUnavailable(f"R1LAB_SANDBOX={forced} does not work here: {why}")
        if forced != "bwrap":
            _announce(f"code sandbox is '{forced}' (R1LAB_SANDBOX={forced}): {LOST[forced]}")
        _announce_uid()
        return forced  # type: ignore[return-value]
    reasons = []
    for mechanism in MECHANISMS:
        ok, why = _works(mechanism)
        if ok:
            if mechanism != "bwrap":
                _announce(f"code sandbox falls back to '{mechanism}' ({'; '.join(reasons)}): {LOST[mechanism]}")
            _announce_uid()
            return mechanism
        reasons.append(f"{mechanism}: {why}")
    raise SandboxUnavailable("no sandbox mechanism works here (install bubblewrap, or util-linux's "
                             "prlimit at least): " + "; ".join(reasons))


def _announce_uid() -> None:
    if not _is_root():
        _announce("code sandbox is not running as root: it cannot give programs a uid of their own, so "
                  "leftover processes are reaped by process group (and cgroup, where there is one) only")


# ------------------------------------------------------------------------------------- memory cap
FORK_PROBE = ("import os\ntry:\n    pid = os.fork()\nexcept OSError:\n    print('blocked')\nelse:\n"
              "    if pid == 0:\n        os._exit(0)\n    os.waitpid(pid, 0)\n    print('forked')\n")


@functools.cache
def memory_cap() -> MemoryCap:
    """How the memory limit covers all of a sandbox's processes here, found by running probes once:
    a cgroup per sandbox where one can be made and entered, else a single process where the kernel
    refuses the program a fork, else per process only (announced)."""
    mechanism = choose_mechanism()
    python = [python_executable(), "-I", "-S", "-c"]
    parent, why = _cgroup_parent()
    if parent is not None:
        try:
            outcome = run(python + ["print('ok')"], Limits(wall_s=20), mechanism=mechanism, memory="cgroup")
            if outcome.exit_code == 0 and outcome.stdout.strip() == b"ok":
                return "cgroup"
            why = outcome.stderr.decode(errors="replace").strip()[-200:] or f"exit {outcome.exit_code}"
        except (OSError, SandboxError) as err:
            why = str(err)
        why = f"a sandbox could not run in a cgroup under {parent}: {why}"
    if os.environ.get("R1LAB_CGROUP", "").strip():
        raise SandboxUnavailable(f"R1LAB_CGROUP={os.environ['R1LAB_CGROUP'].strip()} cannot hold sandboxes: {why}")
    outcome = run(python + [FORK_PROBE], Limits(wall_s=20), mechanism=mechanism, memory="single-process")
    if outcome.exit_code == 0 and outcome.stdout.strip() == b"blocked":
        return "single-process"
    _announce(f"code sandbox memory limit is {MEMORY_CAP_TEXT['per-process']}: no cgroup v2 ({why}) and "
              "the process count cannot be limited here")
    return "per-process"


def memory_cap_text() -> str:
    return f"{memory_cap()}: {MEMORY_CAP_TEXT[memory_cap()]}"


@functools.cache
def _cgroup_parent() -> tuple[Path | None, str]:
    return cgroups.usable_parent(os.environ.get("R1LAB_CGROUP", "").strip() or None)


def _new_cgroup(limits: Limits) -> Path:
    parent, why = _cgroup_parent()
    if parent is None:
        raise SandboxError(f"no cgroup v2 for sandboxes: {why}")
    return cgroups.create(parent, limits.memory_mb << 20, limits.max_processes)


def _remove_cgroup(group: Path) -> None:
    if not cgroups.remove(group):
        _announce(f"sandbox cgroup {group} could not be removed")


def _announce(message: str) -> None:
    warnings.warn(message, SandboxWarning, stacklevel=3)
    print(f"r1lab: WARNING: {message}", file=sys.stderr)
