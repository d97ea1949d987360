"""The two halves of assert-style judging. Standard library only: the sandboxes run this file, compiled
(`python -I -S harness.pyc MODE FD FD`, see code.harness_bytecode), with no r1lab installed.

Why two processes. A model trained with GRPO learns to fool a judge that lives in the same process as
its program: `sys.exit(0)` before the asserts, an object whose `__eq__` always says True, a result
marker written straight to the harness's file descriptor. So the program and the tests never share a
process (nor, under bubblewrap as root, a file system or a uid):

- `program` mode runs the untrusted code and then serves calls: it receives a function name and
  arguments, calls the function, and answers with the return value encoded as plain data.
- `judge` mode runs the trusted test code, with the real builtins. The function under test (and any
  other function of the program the tests name, except builtins and the harness's own names) is a
  proxy that forwards the call and decodes the answer with the strict codec below, so the tests only
  ever compare plain Python values built by the judge itself.

Whatever the program does (exit at any time, print, patch this runner, write forged answers to its
pipe) it can at most send plain data back, which is exactly what a correct solution sends. It never
sees the tests or the expected values, and only the judge's verdict, written to the judge's own
stdout, reaches the trusted parent. Each assert statement is one test; it passes only if the judge
ran it to the end and it held, so a program that dies, exits or hangs fails the tests it did not
reach.
"""

from __future__ import annotations

import _ast  # the C node classes only: importing `ast` would cost the judge ~8 ms at every start
import builtins
import os
import select
import sys
import time

MAX_MESSAGE = 16 << 20  # bytes; a larger message is refused, not read

# ---------------------------------------------------------------------------------------- plain data
# Messages are Python literals: the sender checks that a value is built only from these exact types
# (type(x) is ..., so a subclass of int or str with its own __eq__ or __repr__ is refused) and writes
# repr(value), which then runs only the builtin reprs. The judge reads a message with `parse_plain`,
# a walk over the syntax tree that accepts literals and nothing else: no name lookup, no call, no
# attribute, so whatever bytes a hostile program writes, the judge gets plain data or an error.
# (json would do, but importing it costs the sandboxed interpreter more than its whole start.)
PLAIN = (type(None), bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)
CONTAINERS = (list, tuple, set, frozenset)
SPECIAL_FLOATS = {"nan": float("nan"), "inf": float("inf")}


class NotPlainData(TypeError):
    pass


def check_plain(value, depth: int = 0) -> None:
    if depth > 100:
        raise NotPlainData("nested deeper than 100 levels")
    t = type(value)
    if t not in PLAIN:
        raise NotPlainData(f"a value of type {t.__name__!r} is not plain data")
    if t in CONTAINERS:
        for item in value:
            check_plain(item, depth + 1)
    elif t is dict:
        for key, item in value.items():
            check_plain(key, depth + 1)
            check_plain(item, depth + 1)


def to_text(value) -> str:
    check_plain(value)
    return repr(value)


def parse_plain(text: str):
    try:
        return _plain(compile(text, "<message>", "eval", _ast.PyCF_ONLY_AST).body)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError) as err:
        raise NotPlainData(f"not a plain-data literal ({type(err).__name__})") from None


def _plain(node):
    kind = type(node)
    if kind is _ast.Constant and type(node.value) in PLAIN:
        return node.value
    if kind is _ast.List:
        return [_plain(e) for e in node.elts]
    if kind is _ast.Tuple:
        return tuple(_plain(e) for e in node.elts)
    if kind is _ast.Set:
        return {_plain(e) for e in node.elts}
    if kind is _ast.Dict and None not in node.keys:
        return {_plain(k): _plain(v) for k, v in zip(node.keys, node.values)}
    if kind is _ast.Name and node.id in SPECIAL_FLOATS:  # repr of float('nan') and float('inf')
        return SPECIAL_FLOATS[node.id]
    if kind is _ast.UnaryOp and type(node.op) in (_ast.USub, _ast.UAdd):
        operand = _plain(node.operand)
        if type(operand) in (int, float, complex):
            return -operand if type(node.op) is _ast.USub else operand
    if kind is _ast.BinOp and type(node.op) in (_ast.Add, _ast.Sub):  # repr of a complex: (1+2j)
        left, right = _plain(node.left), _plain(node.right)
        if type(left) in (int, float) and type(right) is complex:
            return left + right if type(node.op) is _ast.Add else left - right
    if (kind is _ast.Call and type(node.func) is _ast.Name and node.func.id in ("set", "frozenset")
            and not node.keywords and len(node.args) <= 1):
        items = _plain(node.args[0]) if node.args else ()
        if type(items) in (set, list, tuple):
            return set(items) if node.func.id == "set" else frozenset(items)
    raise NotPlainData(f"{kind.__name__} is not a plain-data literal")


# ------------------------------------------------------------------------------------------- framing
def send(fd: int, text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    data = len(data).to_bytes(4, "big") + data
    while data:
        data = data[os.write(fd, data):]


class LinkClosed(Exception):
    pass


class LinkTimeout(Exception):
    pass


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise LinkTimeout()
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise LinkClosed()
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive(fd: int, deadline: float | None = None) -> str:
    size = int.from_bytes(_read_exact(fd, 4, deadline), "big")
    if size > MAX_MESSAGE:
        raise LinkClosed(f"message of {size} bytes is over the {MAX_MESSAGE} byte limit")
    return _read_exact(fd, size, deadline).decode("utf-8", "surrogatepass")


def receive_plain(fd: int, deadline: float) -> dict:
    """A message from the untrusted side, parsed strictly."""
    try:
        message = parse_plain(receive(fd, deadline))
    except (NotPlainData, UnicodeDecodeError) as err:
        raise LinkClosed(f"unreadable message: {err}") from None
    if type(message) is not dict:
        raise LinkClosed("message is not a dict")
    return message


# ------------------------------------------------------------------------------- the program's side
def _describe(err: BaseException) -> str:
    try:
        return f"{type(err).__name__}: {str(err)[:300]}"
    except Exception:
        return type(err).__name__


def serve_program(requests: int, answers: int) -> None:
    """Load the program sent first, then answer calls until the judge hangs up."""
    write, text_of, name_of = send, to_text, _describe  # the program may rebind module globals
    # The judge's messages are trusted reprs of plain data: evaluated with nothing but these names.
    literals = {"__builtins__": {}, "set": set, "frozenset": frozenset, **SPECIAL_FLOATS}
    load = eval(receive(requests), literals)
    namespace = {"__name__": "solution", "__builtins__": builtins}
    try:
        exec(compile(load["code"], "solution.py", "exec"), namespace)
    except BaseException as err:  # SystemExit and KeyboardInterrupt too: a load that did not finish
        write(answers, text_of({"ok": False, "error": name_of(err), "memory": isinstance(err, MemoryError)}))
        return
    names = sorted(k for k, v in list(namespace.items()) if type(k) is str and callable(v))
    write(answers, text_of({"ok": True, "names": names}))
    while True:
        try:
            call = eval(receive(requests), literals)
        except LinkClosed:
            return
        seq = call["seq"]
        try:
            result = namespace[call["name"]](*call["args"], **call["kwargs"])
            answer = text_of({"seq": seq, "value": result})
        except NotPlainData as err:
            answer = text_of({"seq": seq, "error": f"returned a value that is not plain data ({err})"})
        except BaseException as err:
            answer = text_of({"seq": seq, "raised": type(err).__name__, "message": name_of(err),
                              "memory": isinstance(err, MemoryError)})
        write(answers, answer)


# ---------------------------------------------------------------------------------- the judge's side
class Abort(Exception):
    """The program can no longer answer: stop the test script. `status` goes into the verdict."""

    def __init__(self, status: str, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


class CandidateError(Exception):
    """A call did not return plain data (or raised an exception that is not a builtin one)."""


# Exceptions a test may legitimately expect from the function under test are re-raised as the builtin
# class of the same name; these never are, because they steer control flow rather than report errors.
NOT_RERAISED = {"StopIteration", "StopAsyncIteration", "GeneratorExit"}


class Link:
    def __init__(self, requests: int, answers: int, deadline: float):
        self.requests, self.answers, self.deadline, self.seq = requests, answers, deadline, 0

    def ask(self, message: dict, what: str) -> dict:
        try:
            send(self.requests, to_text(message))
            return receive_plain(self.answers, self.deadline)
        except LinkTimeout:
            raise Abort("timeout", f"no answer to {what} within the time limit") from None
        except (LinkClosed, BrokenPipeError) as err:
            reason = f" ({err})" if str(err) else ""
            raise Abort("crashed", f"the program exited or broke the channel during {what}{reason}") from None


class Proxy:
    """Stands for a function of the program inside the judge; only plain data crosses."""

    def __init__(self, name: str, link: Link):
        self.name, self.link = name, link

    def __call__(self, *args, **kwargs):
        self.link.seq += 1
        message = {"op": "call", "seq": self.link.seq, "name": self.name, "args": args, "kwargs": kwargs}
        try:
            check_plain(message)
        except NotPlainData as err:
            raise CandidateError(f"the test passes {self.name}() an argument that is not plain data: {err}") from None
        answer = self.link.ask(message, f"the call {self.name}(...)")
        if answer.get("seq") != self.link.seq:
            raise Abort("crashed", f"the program answered out of turn during the call {self.name}(...)")
        if answer.get("memory"):
            raise Abort("memory", f"{self.name}() ran out of memory")
        if "value" in answer:
            return answer["value"]  # plain data, built by parse_plain in this process
        if "raised" in answer:
            kind = getattr(builtins, str(answer["raised"]), None)
            message = str(answer.get("message", ""))
            if (isinstance(kind, type) and issubclass(kind, Exception)
                    and kind.__name__ not in NOT_RERAISED):
                raise kind(message)
            raise CandidateError(f"{self.name}() raised {message}")
        raise CandidateError(f"{self.name}(): {answer.get('error', 'no result')}")


def prepare_tests(tests: str) -> dict:
    """Rewrite a test script for the judge (run by the trusted parent, which has `ast` loaded):
    `assert TEST, MSG` -> `__r1_check(i, lambda: TEST)`, so every assert is test number i and a failing
    one is recorded instead of ending the script (partial credit can be counted). `assert True`-style
    constants test nothing and are dropped. Raises SyntaxError for a script that does not parse."""
    import ast

    class Rewriter(ast.NodeTransformer):
        count = 0

        def visit_Assert(self, node: ast.Assert):
            if isinstance(node.test, ast.Constant):
                return ast.copy_location(ast.Pass(), node)
            thunk = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                                                  defaults=[]), body=node.test)
            call = ast.Call(func=ast.Name("__r1_check", ast.Load()),
                            args=[ast.Constant(self.count), thunk], keywords=[])
            self.count += 1
            return ast.copy_location(ast.Expr(call), node)

    tree = ast.parse(tests, "tests.py")
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})
    calls_check = any(isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                      and isinstance(s.value.func, ast.Name) and s.value.func.id == "check" for s in tree.body)
    rewriter = Rewriter()
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    return {"script": ast.unparse(tree), "total": rewriter.count, "names": names, "calls_check": calls_check}


# Names the program can never stand in for in the tests, whatever it defines: every builtin (a
# program defining `abs` or `sorted` that returns 0 would otherwise pass `abs(f(x) - y) < 1e-6` with
# any f) and the harness's own names.
HARNESS_NAMES = frozenset({"__r1_check", "check", "__name__", "__builtins__"})


def exported_names(program_names, test_names) -> set[str]:
    """The functions of the program the tests may call by name: those the tests name, minus the
    builtins and the harness's names. The entry point is added by the caller, and the prelude's own
    definitions replace the program's afterwards."""
    shielded = HARNESS_NAMES | set(dir(builtins))
    return {name for name in set(program_names) & set(test_names)
            if type(name) is str and name not in shielded and not name.startswith("__r1_")}


def run_tests(job: dict, link: Link) -> dict:
    """Execute the prepared test script against the program behind `link`; returns the verdict."""
    total = job["total"]
    try:
        prelude = compile(job.get("prelude") or "", "prelude.py", "exec")
        script = compile(job["script"], "tests.py", "exec")
    except SyntaxError as err:
        return {"status": "error", "passed_tests": 0, "total_tests": total, "detail": f"prelude: {err}"}
    results: dict[int, bool] = {}
    first_failure: list[str] = []

    def check(i: int, thunk) -> None:
        try:
            ok, why = bool(thunk()), "assertion failed"
        except Abort:
            raise
        except Exception as err:
            ok, why = False, _describe(err)
        results[i] = results.get(i, True) and ok
        if not ok and not first_failure:
            first_failure.append(f"test {i + 1}: {why}")

    def verdict(status: str, completed: bool, detail: str) -> dict:
        passed = sum(results.get(i, completed) for i in range(total))
        if status == "ok" and passed < total:
            status = "failed"
        return {"status": status, "passed_tests": passed, "total_tests": total,
                "detail": detail or (first_failure[0] if first_failure else "")}

    try:
        loaded = link.ask({"op": "load", "code": job["program"]}, "loading")
    except Abort as err:
        return verdict(err.status, False, err.detail)
    if not loaded.get("ok"):
        status = "memory" if loaded.get("memory") else "crashed"
        return verdict(status, False, f"the program failed to load: {loaded.get('error')}")
    namespace = {"__name__": "__tests__", "__builtins__": builtins, "__r1_check": check}
    for name in exported_names(loaded.get("names", []), job["names"]):
        namespace[name] = Proxy(name, link)
    entry = job.get("entry_point")
    try:
        exec(prelude, namespace)  # trusted helpers (e.g. HumanEval's poly) shadow the program's own
        if entry:
            namespace[entry] = Proxy(entry, link)
        exec(script, namespace)
        if entry and callable(namespace.get("check")) and not job["calls_check"]:
            namespace["check"](namespace[entry])
    except Abort as err:
        return verdict(err.status, False, err.detail)
    except Exception as err:
        return verdict("failed", False, f"the test script stopped: {_describe(err)}")
    return verdict("ok", True, "")


def judge(requests: int, answers: int) -> None:
    """Read the job (a plain-data literal) from stdin, judge, write the verdict (one too) to the real stdout."""
    job = parse_plain(sys.stdin.buffer.read().decode())
    verdict_out = os.fdopen(os.dup(1), "w")
    sys.stdout = sys.stderr  # prints from the test code never mix with the verdict
    link = Link(requests, answers, time.monotonic() + float(job["timeout_s"]))
    verdict_out.write(to_text(run_tests(job, link)))
    verdict_out.flush()


def _entry(argv: list[str]) -> None:
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # big integers are plain data too
    mode, a, b = argv[1], int(argv[2]), int(argv[3])
    if mode == "program":
        serve_program(a, b)
    elif mode == "judge":
        judge(a, b)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    _entry(sys.argv)
