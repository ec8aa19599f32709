"""Issue 20 item 4: the two-proportion z-test behind "is the difference between the variants real", and its
plain sentence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import experiments


def test_the_z_test_matches_the_textbook_example():
    """50 of 100 against 70 of 100: pooled p = 0.6, z = 0.2 / sqrt(0.24 * 0.02) = 2.887, two-sided p = 0.0039.
    Mutation tried: the unpooled standard error -> z = 2.92, the test fails."""
    c = experiments.two_proportion_test(50, 100, 70, 100)
    assert c.z == pytest.approx(2.8868, abs=1e-4) and c.p_value == pytest.approx(0.00389, abs=1e-4)
    sentence = experiments.verdict("variant A", "variant B", "Payment", c)
    assert "The difference is real: variant B does better (p = 0.004" in sentence


def test_a_small_or_even_result_is_not_called_real():
    """Mutation tried: `significant` without `enough_data` -> 9 of 10 against 1 of 10 called real."""
    small = experiments.two_proportion_test(1, 10, 9, 10)
    assert small.p_value < 0.05 and not small.significant
    assert "Too little data to tell" in experiments.verdict("A", "B", "Reply", small)
    even = experiments.two_proportion_test(40, 100, 44, 100)
    assert "could be chance" in experiments.verdict("A", "B", "Reply", even)
    assert experiments.two_proportion_test(0, 0, 3, 10).z is None


@given(st.integers(0, 500), st.integers(1, 500), st.integers(0, 500), st.integers(1, 500))
def test_swapping_the_variants_flips_z_and_keeps_p(sa, na, sb, nb):
    sa, sb = min(sa, na), min(sb, nb)
    ab, ba = experiments.two_proportion_test(sa, na, sb, nb), experiments.two_proportion_test(sb, nb, sa, na)
    if ab.z is None:
        assert ba.z is None
        return
    assert ab.z == pytest.approx(-ba.z) and ab.p_value == pytest.approx(ba.p_value)
    assert 0.0 <= ab.p_value <= 1.0


@pytest.mark.parametrize("counts", [(-1, 10, 1, 10), (11, 10, 1, 10), (1, 10, True, 10)])
def test_impossible_counts_are_refused(counts):
    with pytest.raises(ValueError):
        experiments.two_proportion_test(*counts)
