"""The sandbox mechanisms: each one runs programs under its limits; falling back is announced."""

import os
import shutil
import sys

import pytest

from r1lab.verify import sandbox

PY = [sandbox.python_executable(), "-I", "-S", "-c"]
LIMITS = sandbox.Limits(wall_s=5, cpu_s=1, memory_mb=256)


def available():
    return [m for m in sandbox.MECHANISMS if sandbox._works(m)[0]]


@pytest.fixture(scope="module")
def mechanisms():
    return available()


def run(code, mechanism, limits=LIMITS, **kw):
    return sandbox.run(PY + [code], limits, mechanism=mechanism, **kw)


@pytest.mark.parametrize("mechanism", sandbox.MECHANISMS)
def test_each_mechanism_runs_programs_with_a_clean_environment(mechanism, mechanisms, monkeypatch):
    if mechanism not in mechanisms:
        pytest.skip(f"{mechanism} does not work here")
    monkeypatch.setenv("R1LAB_SECRET", "x")
    out = run("import os, sys; print(sorted(os.environ)); print(open('in.txt').read()); "
              "print(sys.stdin.read())", mechanism, files={"in.txt": b"file data"},
              stdin=sandbox.data_fd(b"stdin data"))
    assert out.exit_code == 0, out
    lines = out.stdout.decode().splitlines()
    assert set(eval(lines[0])) <= {"HOME", "LANG", "PATH", "TMPDIR", "PWD"}  # bwrap sets PWD
    assert lines[1:] == ["file data", "stdin data"]
    if os.geteuid() == 0:
        assert out.uid in sandbox.uid_block() and sandbox.processes_of(out.uid) == []


@pytest.mark.parametrize("mechanism", sandbox.MECHANISMS)
def test_each_mechanism_enforces_cpu_memory_and_output_limits(mechanism, mechanisms):
    if mechanism not in mechanisms:
        pytest.skip(f"{mechanism} does not work here")
    # A generous wall limit: on a loaded machine CPU time accrues slower than wall time.
    assert run("while True: pass", mechanism, sandbox.Limits(wall_s=60, cpu_s=1)).cpu_exceeded
    assert b"MemoryError" in run("x = bytearray(1 << 30)", mechanism).stderr
    assert run("print('x' * (1 << 20))", mechanism,
               sandbox.Limits(wall_s=5, output_bytes=1000)).output_exceeded
    slow = run("import time; time.sleep(30)", mechanism, sandbox.Limits(wall_s=0.5))
    assert slow.timed_out and slow.signal == 9 and slow.wall_s < 25  # killed, not slept out


@pytest.mark.parametrize("mechanism", ["bwrap", "unshare"])
def test_namespaced_mechanisms_have_no_network_and_no_host_processes(mechanism, mechanisms):
    if mechanism not in mechanisms:
        pytest.skip(f"{mechanism} does not work here")
    out = run("import os, socket\n"
              "print(len([p for p in os.listdir('/proc') if p.isdigit()]))\n"
              "try:\n    socket.create_connection(('127.0.0.1', 1), timeout=1)\nexcept OSError as e:\n"
              "    print(type(e).__name__)\n", mechanism)
    count, error = out.stdout.decode().split()
    assert int(count) <= 4  # bwrap's init, setpriv's python, ... but none of the host's
    assert error in ("OSError", "ConnectionRefusedError")


def test_bwrap_hides_the_host_file_system(mechanisms):
    if "bwrap" not in mechanisms:
        pytest.skip("bwrap does not work here")
    out = run(f"import os; print(sorted(os.listdir('/'))); print(os.path.exists({os.getcwd()!r}))", "bwrap")
    top = eval(out.stdout.decode().splitlines()[0])
    assert "work" not in top and "etc" not in top and "home" not in top
    assert out.stdout.decode().splitlines()[1] == "False"


def test_forced_fallback_is_announced(monkeypatch, capsys, mechanisms):
    if "process" not in mechanisms:
        pytest.skip("no mechanism works here")
    monkeypatch.setenv("R1LAB_SANDBOX", "process")
    sandbox.choose_mechanism.cache_clear()
    try:
        with pytest.warns(sandbox.SandboxWarning, match="NETWORK"):
            assert sandbox.choose_mechanism() == "process"
        assert "r1lab: WARNING: code sandbox is 'process' (R1LAB_SANDBOX=process)" in capsys.readouterr().err
    finally:
        sandbox.choose_mechanism.cache_clear()


def test_unknown_forced_mechanism_is_an_error(monkeypatch):
    monkeypatch.setenv("R1LAB_SANDBOX", "docker")
    sandbox.choose_mechanism.cache_clear()
    try:
        with pytest.raises(sandbox.SandboxError, match="docker"):
            sandbox.choose_mechanism()
    finally:
        sandbox.choose_mechanism.cache_clear()


def test_this_machine_gets_bubblewrap():
    """Where `make install` can provide bubblewrap (root with apt-get, as in CI), it must be in force."""
    if os.geteuid() != 0 or sys.platform != "linux" or shutil.which("apt-get") is None:
        pytest.skip("only root with apt-get is promised bubblewrap (by make install)")
    assert sandbox.choose_mechanism() == "bwrap"


def test_forcing_a_mechanism_that_does_not_work_is_an_error(monkeypatch, tmp_path):
    """R1LAB_SANDBOX forces exactly one mechanism (it used to be a ceiling that fell back below it):
    bubblewrap hidden from PATH, R1LAB_SANDBOX=bwrap must fail and say why, not fall back."""
    for tool in ("prlimit", "unshare", "setpriv", "sh", "kill"):
        if shutil.which(tool):
            (tmp_path / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("R1LAB_SANDBOX", "bwrap")
    sandbox.choose_mechanism.cache_clear()
    try:
        with pytest.raises(sandbox.SandboxError, match="R1LAB_SANDBOX=bwrap does not work here: bwrap not found"):
            sandbox.choose_mechanism()
    finally:
        sandbox.choose_mechanism.cache_clear()


def test_memory_cap_covers_every_process_of_a_sandbox(mechanisms):
    """Issue 13 item 2: the memory limit is the sandbox's total. Where no cgroup v2 can be used, the
    program is one process: the kernel refuses it forks and threads, so RLIMIT_AS is its total."""
    if not mechanisms:
        pytest.skip("no mechanism works here")
    cap = sandbox.memory_cap()
    assert cap in sandbox.MEMORY_CAP_TEXT and cap in sandbox.memory_cap_text()
    if os.geteuid() == 0:
        assert cap != "per-process"  # root can always drop to a uid of the sandbox's own
    probe = sandbox.FORK_PROBE + ("import threading\ntry:\n    threading.Thread(target=print).start()\n"
                                  "    print('thread')\nexcept RuntimeError:\n    print('no thread')\n")
    out = run(probe, sandbox.choose_mechanism())
    if cap == "single-process":
        assert out.stdout.decode().split() == ["blocked", "no", "thread"]
    elif cap == "cgroup":
        assert out.stdout.decode().split()[0] == "forked"


@pytest.fixture
def fresh_choice():
    """Forget the cached mechanism and memory cap before and after a test that changes the settings."""
    caches = (sandbox.choose_mechanism, sandbox.memory_cap, sandbox._cgroup_parent)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


def test_sandbox_settings_a_user_can_fix_are_user_errors(monkeypatch, tmp_path, capsys, fresh_choice):
    from r1lab.cli import main
    from r1lab.errors import UserError

    monkeypatch.setenv("R1LAB_CGROUP", str(tmp_path / "no-such-cgroup"))
    with pytest.raises(UserError, match="R1LAB_CGROUP=.*no-such-cgroup cannot hold sandboxes"):
        sandbox.memory_cap()
    monkeypatch.delenv("R1LAB_CGROUP")
    monkeypatch.setenv("R1LAB_SANDBOX", "docker")
    sandbox.choose_mechanism.cache_clear()
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"code": "print(1)", "tests": [{"input": "", "output": "1"}]}\n')
    assert main(["verify", "code", "--file", str(cases)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "R1LAB_SANDBOX='docker': expected one of" in err
