"""Quiz statistics as Moodle computes them (its «Quiz statistics calculations»), from a table of marks: one
row per attempt, one column per question slot. Pure functions; no database.

Per quiz: mean, median, standard deviation (sample), skewness and kurtosis (sample estimators k3/k2^1.5 and
k4/k2², as Moodle), the coefficient of internal consistency (Cronbach's alpha, in percent), the error ratio
and the standard error. Per question: facility index (mean mark as a percentage of the maximum), standard
deviation (percent of the maximum), discrimination index (the correlation of the question's mark with the
rest of the test, in percent) and discriminative efficiency (the covariance with the rest of the test as a
percentage of the largest covariance those same marks could have had).
"""

from __future__ import annotations

import math
import statistics as st
from dataclasses import dataclass


@dataclass(frozen=True)
class QuestionStats:
    facility: float | None
    sd: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None


@dataclass(frozen=True)
class QuizStats:
    attempts: int
    mean: float | None
    median: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    cic: float | None
    error_ratio: float | None
    standard_error: float | None
    questions: tuple[QuestionStats, ...]


def _covariance(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (n - 1)


def question_stats(marks: list[float], rest: list[float], max_mark: float) -> QuestionStats:
    """One question: its marks in each attempt and the rest of the test's marks in the same attempts."""
    n = len(marks)
    if n == 0 or max_mark <= 0:
        return QuestionStats(None, None, None, None)
    facility = 100 * (sum(marks) / n) / max_mark
    if n < 2:
        return QuestionStats(facility, None, None, None)
    var_q, var_rest = st.variance(marks), st.variance(rest)
    sd = 100 * math.sqrt(var_q) / max_mark
    if var_q == 0 or var_rest == 0:
        return QuestionStats(facility, sd, None, None)
    cov = _covariance(marks, rest)
    discrimination = 100 * cov / math.sqrt(var_q * var_rest)
    cov_max = _covariance(sorted(marks), sorted(rest))
    efficiency = 100 * cov / cov_max if cov_max > 0 else None
    return QuestionStats(facility, sd, discrimination, efficiency)


def quiz_stats(table: list[list[float]], max_marks: list[float]) -> QuizStats:
    """``table[attempt][slot]``: the mark of each question in each attempt (an unanswered question is 0)."""
    n, k = len(table), len(max_marks)
    if any(len(row) != k for row in table):
        raise ValueError("every attempt needs a mark for every slot")
    totals = [sum(row) for row in table]
    columns = [[row[j] for row in table] for j in range(k)]
    questions = tuple(question_stats(columns[j], [t - m for t, m in zip(totals, columns[j], strict=True)],
                                     max_marks[j]) for j in range(k))
    if n == 0:
        return QuizStats(0, None, None, None, None, None, None, None, None, questions)
    mean, median = sum(totals) / n, st.median(totals)
    if n < 2:
        return QuizStats(n, mean, median, None, None, None, None, None, None, questions)
    deviations = [t - mean for t in totals]
    m2, m3, m4 = (sum(d ** p for d in deviations) / n for p in (2, 3, 4))
    k2 = n * m2 / (n - 1)
    sd = math.sqrt(k2)
    skewness = kurtosis = None
    if n > 2 and k2 > 0:
        k3 = n * n * m3 / ((n - 1) * (n - 2))
        skewness = k3 / k2 ** 1.5
        if n > 3:
            k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 ** 2) / ((n - 1) * (n - 2) * (n - 3))
            kurtosis = k4 / (k2 * k2)
    cic = error_ratio = standard_error = None
    if k > 1 and k2 > 0:
        item_variance = sum(st.variance(c) for c in columns)
        cic = 100 * k / (k - 1) * (1 - item_variance / k2)
        if cic <= 100:
            error_ratio = 100 * math.sqrt(max(0.0, 1 - cic / 100))
            standard_error = error_ratio * sd / 100
    return QuizStats(n, mean, median, sd, skewness, kurtosis, cic, error_ratio, standard_error, questions)


def response_distribution(responses: list[str]) -> list[tuple[str, int, float]]:
    """(response, count, percent) in descending count — a question's «analysis of responses»."""
    counts: dict[str, int] = {}
    for r in responses:
        counts[r] = counts.get(r, 0) + 1
    total = len(responses) or 1
    return [(r, c, 100 * c / total) for r, c in sorted(counts.items(), key=lambda rc: (-rc[1], rc[0]))]
