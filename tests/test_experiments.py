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


# --- several variants: Holm–Bonferroni -----------------------------------------------------------------------------

P_VALUES = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=8)


def _holm_step_down(p_values: list[float], alpha: float) -> set[int]:
    """Holm's procedure as written in the textbook: sorted ascending, reject H(k) while p(k) < alpha / (m - k + 1)
    (k from 1); stop at the first that is not."""
    m, rejected = len(p_values), set()
    for k, index in enumerate(sorted(range(m), key=lambda i: p_values[i]), start=1):
        if not p_values[index] * (m - k + 1) < alpha:
            break
        rejected.add(index)
    return rejected


@given(P_VALUES, st.floats(0.001, 0.2))
def test_holm_rejects_exactly_what_the_step_down_procedure_rejects(p_values, alpha):
    """Mutation tried: each p multiplied by its rank instead of (m - rank + 1) -> the smallest p was not corrected
    and hypothesis found a set the step-down procedure does not reject."""
    adjusted = experiments.holm(p_values)
    assert {i for i, a in enumerate(adjusted) if a < alpha} == _holm_step_down(p_values, alpha)


@given(P_VALUES)
def test_holm_adjusted_values_are_bounded_and_keep_the_order(p_values):
    """Mutation tried: no running maximum -> a larger p got a smaller adjusted value."""
    adjusted = experiments.holm(p_values)
    m = len(p_values)
    for p, a in zip(p_values, adjusted, strict=True):
        assert p <= a <= min(1.0, m * p) + 1e-12  # never below the raw p, never above plain Bonferroni
    for i in range(m):
        for j in range(m):
            if p_values[i] <= p_values[j]:
                assert adjusted[i] <= adjusted[j]
    if m == 1:
        assert adjusted == p_values  # one comparison: nothing to correct


def test_three_variants_a_difference_that_is_real_alone_may_be_chance_among_several():
    """B against A: p = 0.032 alone, below 0.05; with C compared too (p = 0.5), Holm's 2 x 0.032 = 0.064 is not below
    0.05, so the sentence says it could be chance, and quotes both p-values. Mutation tried: `significant` reading
    the raw p-value -> 'The difference is real'."""
    b = experiments.two_proportion_test(40, 200, 58, 200)
    c = experiments.two_proportion_test(40, 200, 45, 200)
    assert b.significant and 0.03 < b.p_value < 0.04
    b_corrected, c_corrected = experiments.corrected([b, c])
    assert b_corrected.adjusted_p == pytest.approx(2 * b.p_value) and b_corrected.family == 2
    assert not b_corrected.significant
    sentence = experiments.verdict("variant A", "variant B", "Reply", b_corrected, "replies")
    assert "could be chance" in sentence
    assert f"p = {b.p_value:.3f}, {2 * b.p_value:.3f} after the Holm–Bonferroni correction for the 2 variants" \
        in sentence
    # Too little data is not tested, so it does not count in the family.
    small = experiments.two_proportion_test(1, 10, 9, 10)
    alone, untouched = experiments.corrected([b, small])
    assert alone.adjusted_p is None and alone.significant and untouched == small
