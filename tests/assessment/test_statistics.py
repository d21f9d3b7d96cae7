"""Quiz statistics as Moodle computes them, checked against hand-computed values and known properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.assessment import statistics as qs

#: Five attempts at three 1-mark questions (rows: attempts).
TABLE = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1]]


def test_quiz_figures():
    s = qs.quiz_stats(TABLE, [1, 1, 1])
    totals = [3, 2, 1, 0, 3]
    assert s.attempts == 5 and s.mean == pytest.approx(1.8) and s.median == 2
    assert s.sd == pytest.approx(math.sqrt(sum((t - 1.8) ** 2 for t in totals) / 4))
    # Cronbach's alpha by hand: item variances 0.2, 0.3, 0.3; total variance 1.7.
    assert s.cic == pytest.approx(100 * 3 / 2 * (1 - 0.8 / 1.7))
    assert s.error_ratio == pytest.approx(100 * math.sqrt(1 - s.cic / 100))
    assert s.standard_error == pytest.approx(s.error_ratio * s.sd / 100)
    assert s.skewness is not None and s.kurtosis is not None


def test_skewness_and_kurtosis_are_the_sample_estimators():
    totals = [[2.0], [3.0], [3.0], [5.0], [9.0], [10.0]]
    s = qs.quiz_stats(totals, [10])
    xs = [t[0] for t in totals]
    n, mean = len(xs), sum(xs) / len(xs)
    m2 = sum((x - mean) ** 2 for x in xs) / n
    m3 = sum((x - mean) ** 3 for x in xs) / n
    g1 = m3 / m2 ** 1.5
    assert s.skewness == pytest.approx(g1 * math.sqrt(n * (n - 1)) / (n - 2))  # the adjusted Fisher–Pearson G1
    assert s.cic is None  # one question: no internal consistency


def test_question_figures():
    s = qs.quiz_stats(TABLE, [1, 1, 1])
    first, second = s.questions[0], s.questions[1]
    assert first.facility == pytest.approx(80) and second.facility == pytest.approx(60)
    assert first.sd == pytest.approx(100 * math.sqrt(0.2))
    marks, rest = [1, 1, 1, 0, 1], [2, 1, 0, 0, 2]
    r = _pearson(marks, rest)
    assert first.discrimination_index == pytest.approx(100 * r)
    assert 0 < first.discriminative_efficiency <= 100 + 1e-9


def _pearson(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


def test_a_question_everyone_got_right_does_not_discriminate():
    s = qs.quiz_stats([[1, 1], [1, 0], [1, 1]], [1, 1])
    assert s.questions[0].facility == 100 and s.questions[0].discrimination_index is None


def test_identical_questions_are_perfectly_consistent():
    s = qs.quiz_stats([[1, 1], [0, 0], [1, 1], [0, 0]], [1, 1])
    assert s.cic == pytest.approx(100) and s.error_ratio == pytest.approx(0)
    assert s.questions[0].discrimination_index == pytest.approx(100)
    assert s.questions[0].discriminative_efficiency == pytest.approx(100)


def test_few_attempts_give_what_they_can():
    assert qs.quiz_stats([], [1]).mean is None
    one = qs.quiz_stats([[1, 0]], [1, 1])
    assert one.mean == 1 and one.sd is None and one.questions[0].facility == 100
    with pytest.raises(ValueError):
        qs.quiz_stats([[1]], [1, 1])


@given(st.lists(st.lists(st.integers(min_value=0, max_value=4), min_size=3, max_size=3), min_size=2, max_size=30))
def test_figures_stay_in_their_ranges(rows):
    s = qs.quiz_stats([[float(x) for x in row] for row in rows], [4, 4, 4])
    for q in s.questions:
        assert 0 <= q.facility <= 100
        if q.discrimination_index is not None:
            assert -100 - 1e-6 <= q.discrimination_index <= 100 + 1e-6
        if q.discriminative_efficiency is not None:
            assert q.discriminative_efficiency <= 100 + 1e-6
    if s.cic is not None:
        assert s.cic <= 100 + 1e-6


def test_response_distribution():
    assert qs.response_distribution(["Москва", "Казань", "Москва", "Москва"]) == [
        ("Москва", 3, 75.0), ("Казань", 1, 25.0)]
