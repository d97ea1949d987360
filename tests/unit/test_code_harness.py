"""The judge's plain-data codec and assert rewriting (pure functions, no sandbox)."""

import ast
import math

import pytest

from r1lab.verify.code_harness import NotPlainData, check_plain, parse_plain, prepare_tests, to_text

ROUND_TRIP = [
    None, True, False, 0, -7, 10**4000, 1.5, -0.0, 1e308, complex(1, -2), "", "é\n'\"\\", b"\x00\xff",
    [1, [2, [3]]], (1,), (), {"a": 1, 2: [3], (4, 5): None}, {1, 2}, set(), frozenset({1}), frozenset(),
    [float("inf"), -float("inf")], {"nested": ({1: frozenset({(1, "x")})},)},
]


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: type(v).__name__)
def test_plain_values_round_trip_with_their_exact_types(value):
    back = parse_plain(to_text(value))
    assert back == value and type(back) is type(value)


def test_nan_round_trips():
    assert math.isnan(parse_plain(to_text(float("nan"))))
    assert math.isnan(parse_plain(to_text([complex(float("nan"), 1)]))[0].real)


class Yes:
    def __eq__(self, other):
        return True


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class LyingStr(str):
    def __repr__(self):
        return "'expected'"


@pytest.mark.parametrize("value", [Yes(), LyingInt(3), LyingStr("x"), [1, Yes()], {"k": LyingInt(1)},
                                   {LyingStr("k"): 1}, print, object, range(3), bytearray(b"x")])
def test_anything_but_exact_builtin_types_is_refused(value):
    with pytest.raises(NotPlainData):
        to_text(value)


def test_cycles_and_deep_nesting_are_refused():
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(NotPlainData):
        to_text(cyclic)
    deep = []
    for _ in range(500):
        deep = [deep]
    with pytest.raises(NotPlainData):
        check_plain(deep)


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "x", "(lambda: 1)()", "[1].__class__", "{**{}}", "1 if 1 else 2",
    "f'{1}'", "open('/etc/passwd')", "frozenset(open('x'))", "set([1], key=2)", "'a' + 'b'", "1 + 2",
    "[" * 5000 + "]" * 5000, "", "1; 2", "\xff",
])
def test_parse_plain_refuses_everything_that_is_not_a_literal(text):
    with pytest.raises(NotPlainData):
        parse_plain(text)


def test_each_assert_becomes_one_numbered_test_and_constants_are_dropped():
    prepared = prepare_tests("def check(c):\n    assert True, 'x'\n    assert c(1) == 2\n"
                             "    for i in range(3):\n        assert c(i) > 0, 'msg'\nassert f()\n")
    count, text = prepared["total"], prepared["script"]
    assert count == 3 and not prepared["calls_check"]
    assert {"c", "f", "i", "range"} <= set(prepared["names"])
    assert "__r1_check(0, lambda: c(1) == 2)" in text
    assert "__r1_check(1, lambda: c(i) > 0)" in text
    assert "__r1_check(2, lambda: f())" in text
    assert "assert" not in text
    ast.parse(text)
    assert prepare_tests("def check(c):\n    assert c()\ncheck(f)\n")["calls_check"]
    with pytest.raises(SyntaxError):
        prepare_tests("assert (")
