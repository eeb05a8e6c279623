"""Significance of a change in NPS, a share (CSAT, response rate) or a mean (CES), against scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from opencx.analytics.service import mean_change, nps_change, share_change


def test_nps_change_against_the_scores_themselves() -> None:
    # given period A: 50 promoters, 30 passives, 20 detractors of 100 (NPS 30) and
    # period B: 140, 40, 20 of 200 (NPS 60); each answer scored +1, 0 or -1
    a = np.array([1] * 50 + [0] * 30 + [-1] * 20) * 100
    b = np.array([1] * 140 + [0] * 40 + [-1] * 20) * 100
    error = math.sqrt(a.var() / a.size + b.var() / b.size)  # population variance, as for NPS
    z = (b.mean() - a.mean()) / error
    # when the change is tested
    change = nps_change((50, 20, 100), (140, 20, 200))
    # then it is +30 with the standard error of the two NPS combined, and significant
    assert change is not None
    assert change.difference == pytest.approx(30.0)
    assert change.standard_error == pytest.approx(error)
    assert change.z == pytest.approx(z)
    assert change.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert change.difference_low == pytest.approx(30 - stats.norm.ppf(0.975) * error)
    assert change.significant


def test_a_small_nps_change_is_not_significant() -> None:
    change = nps_change((3, 2, 10), (4, 2, 10))
    assert change is not None and change.p_value > 0.05 and not change.significant
    assert change.difference_low < 0 < change.difference_high


def test_share_change_is_the_chi_square_test_without_correction() -> None:
    # given 40 of 100 satisfied in A and 65 of 120 in B
    table = [[40, 60], [65, 55]]
    _, expected_p, _, _ = stats.chi2_contingency(table, correction=False)
    # when tested as two proportions
    change = share_change(40, 100, 65, 120)
    # then the two-sided p-value equals the chi-square test's, and the interval is unpooled
    assert change is not None
    assert change.p_value == pytest.approx(expected_p)
    unpooled = math.sqrt(0.4 * 0.6 / 100 + (65 / 120) * (55 / 120) / 120)
    assert change.difference_high - change.difference == pytest.approx(
        stats.norm.ppf(0.975) * unpooled
    )
    assert change.significant


def test_mean_change_is_welchs_statistic_with_a_normal_p_value() -> None:
    # given CES answers in two periods
    a = [3, 4, 4, 5, 2, 6, 4, 3]
    b = [5, 6, 7, 5, 6, 4, 7, 6, 5]
    welch = stats.ttest_ind(b, a, equal_var=False)
    # when tested from counts, sums and sums of squares
    change = mean_change(
        (len(a), sum(a), sum(v * v for v in a)), (len(b), sum(b), sum(v * v for v in b))
    )
    # then the statistic is Welch's t, read against the normal distribution
    assert change is not None
    assert change.difference == pytest.approx(np.mean(b) - np.mean(a))
    assert change.z == pytest.approx(welch.statistic)
    assert change.p_value == pytest.approx(2 * stats.norm.sf(abs(welch.statistic)))
    assert change.significant


def test_no_test_without_spread_or_with_a_single_answer() -> None:
    # all promoters in both periods: no spread, nothing to test
    assert nps_change((5, 0, 5), (8, 0, 8)) is None
    assert share_change(3, 3, 4, 4) is None
    assert mean_change((1, 5, 25), (3, 12, 56)) is None


def test_equal_answers_in_each_period_give_no_test_rather_than_a_false_alarm() -> None:
    # every CES answer 5 in A and 6 in B: no spread, so the normal test cannot speak
    assert mean_change((7, 35, 175), (9, 54, 324)) is None
    # all passives in A, all promoters in B
    assert nps_change((0, 0, 13), (17, 0, 17)) is None
