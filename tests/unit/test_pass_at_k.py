"""pass@k against exact combinatorics, consensus voting, bootstrap intervals, length statistics."""

from fractions import Fraction
from itertools import combinations
from math import comb

import pytest

from r1lab.evaluation.metrics import (
    bootstrap_ci,
    cons_at_k,
    length_stats,
    majority_class,
    mean_with_ci,
    pass_at_k,
    vote_classes,
)


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def test_pass_at_k_by_hand():
    assert pass_at_k(2, 1, 1) == pytest.approx(0.5)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)  # 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 6, 5) == 1.0  # only 4 wrong samples: every 5-subset holds a correct one


@pytest.mark.parametrize("n", range(1, 13))
def test_pass_at_k_matches_exact_combinatorics(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(exact_pass_at_k(n, c, k)), abs=1e-12)


def test_pass_at_k_is_the_fraction_of_k_subsets_with_a_correct_sample():
    samples = [True, False, False, True, False, False, False]  # n=7, c=2
    for k in range(1, 8):
        subsets = list(combinations(samples, k))
        brute = sum(any(s) for s in subsets) / len(subsets)
        assert pass_at_k(7, 2, k) == pytest.approx(brute, abs=1e-12)


def test_pass_at_1_is_the_fraction_correct():
    for n in (1, 4, 64):
        for c in range(n + 1):
            assert pass_at_k(n, c, 1) == pytest.approx(c / n)


def test_pass_at_k_is_stable_for_large_n():
    # C(1000, 500) overflows a float; the product form does not. 1 - C(999,500)/C(1000,500) = 500/1000.
    assert pass_at_k(1000, 1, 500) == pytest.approx(0.5, abs=1e-12)
    assert pass_at_k(1024, 3, 64) == pytest.approx(float(exact_pass_at_k(1024, 3, 64)), abs=1e-12)


@pytest.mark.parametrize("n,c,k", [(4, 5, 1), (4, -1, 1), (4, 2, 0), (4, 2, 5)])
def test_pass_at_k_rejects_impossible_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def same_fraction(a: str, b: str) -> bool:
    return Fraction(a) == Fraction(b)


def test_vote_classes_group_equivalent_answers_and_skip_empty_ones():
    answers = ["1/2", None, "0.5", "3", "", "2/4", "3"]
    assert vote_classes(answers, same_fraction) == [[0, 2, 5], [3, 6]]


def test_identical_answers_are_grouped_without_calling_the_equivalence():
    calls = []

    def eq(a, b):
        calls.append((a, b))
        return False

    assert vote_classes(["7", "7", "7"], eq) == [[0, 1, 2]]
    assert calls == []


def test_class_representative_plays_the_gold_role():
    seen = []

    def eq(gold, answer):
        seen.append((gold, answer))
        return False

    vote_classes(["a", "b"], eq)
    assert seen == [("a", "b")]


def test_majority_tie_goes_to_the_class_sampled_first():
    assert majority_class([[1, 3], [0, 2]]) == [0, 2]
    assert majority_class([[0], [1, 2]]) == [1, 2]
    assert majority_class([]) is None


def test_cons_at_k():
    # Without equivalence "1/2" and "0.5" split the vote and the first-sampled "3" wins the tie.
    answers, correct = ["3", "1/2", "0.5", "3"], [False, True, True, False]
    assert cons_at_k(answers, correct, lambda a, b: a == b) is False
    assert cons_at_k(answers + ["2/4"], correct + [True], same_fraction) is True
    assert cons_at_k([None, None, "5"], [False, False, True], same_fraction) is True
    assert cons_at_k([None, ""], [False, False], same_fraction) is False
    with pytest.raises(ValueError):
        cons_at_k(["1"], [True, False], same_fraction)


def test_bootstrap_ci_is_seeded_and_sensible():
    values = [0.0, 1.0, 1.0, 0.0, 1.0, 0.25, 0.75, 1.0]
    a, b = bootstrap_ci(values, seed=3), bootstrap_ci(values, seed=3)
    assert a == b
    lo, hi = a
    assert 0.0 <= lo < sum(values) / len(values) < hi <= 1.0
    assert bootstrap_ci([0.5] * 10) == (0.5, 0.5)
    assert bootstrap_ci([]) is None
    # Two problems: resampled means are 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4.
    assert bootstrap_ci([0.0, 1.0], resamples=4000) == (0.0, 1.0)


def test_mean_with_ci_shape():
    m = mean_with_ci([1.0, 0.0])
    assert m["mean"] == 0.5 and len(m["ci95"]) == 2
    assert mean_with_ci([]) == {"mean": None, "ci95": None}


def test_length_stats_by_hand():
    s = length_stats([10, 20, 30, 40, 50])
    assert s["mean"] == 30 and s["median"] == 30 and s["min"] == 10 and s["max"] == 50
    assert s["p10"] == pytest.approx(14.0) and s["p90"] == pytest.approx(46.0)
    assert length_stats([])["mean"] is None
