"""The dashboard's bar labels (bot/gateway/console/kpi_chart.py): what fits beside a bar is cut at a word, never
mid-word, and the bar's tooltip keeps the whole label. The exploratory pass read "segment: On hold (dispute, cease,
hard"."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.gateway.console.kpi_chart import bar_chart, shortened


def test_a_long_label_is_cut_at_a_word_with_an_ellipsis_and_kept_whole_in_the_tooltip():
    label = "segment: On hold (dispute, cease, hardship, attorney)"
    assert shortened(label) == "segment: On hold (dispute, cease…"
    chart = bar_chart("Recovery rate", [(label, 0.5)])
    assert ">segment: On hold (dispute, cease…</text>" in chart and f"<title>{label}: 50.0%</title>" in chart


@given(st.text(alphabet=st.sampled_from("abc de,("), max_size=80))
def test_a_shortened_label_fits_and_is_the_start_of_the_label_at_a_word(label):
    """Mutation tried: the old `label[:38]` -> "hard" cut mid-word, and no ellipsis."""
    short = shortened(label)
    assert len(short) <= 38
    if short != label:
        kept = short.removesuffix("…")
        assert short.endswith("…") and label.startswith(kept)
        # The cut is at a word: what follows is a space or punctuation, unless the start had no space to cut at.
        assert label[len(kept):][:1] in (" ", ",", ";", ":", "(") or " " not in label[:37]
