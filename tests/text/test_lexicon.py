"""The customer-service seed lexicon: prefixes, phrases and negation per language."""

from __future__ import annotations

import pytest

from opencx.text.lexicon import LexiconHits, count_lexicon_hits


@pytest.mark.parametrize(
    ("text", "language", "hits"),
    [
        ("Great service, fast delivery!", "en", LexiconHits(positive=2, negative=0)),
        ("Not good at all, the parcel arrived late", "en", LexiconHits(positive=0, negative=2)),
        ("The parcel never arrived", "en", LexiconHits(positive=0, negative=1)),
        ("Super snel geleverd", "nl", LexiconHits(positive=2, negative=0)),
        ("De doos was kapot en kwam te laat", "nl", LexiconHits(positive=0, negative=2)),
        ("Niet tevreden, geen antwoord", "nl", LexiconHits(positive=0, negative=2)),
        ("Szybka dostawa, polecam", "pl", LexiconHits(positive=2, negative=0)),
        ("Nie polecam, paczka zepsuta", "pl", LexiconHits(positive=0, negative=2)),
        ("Czekam na zwrot pieniędzy", "pl", LexiconHits(positive=0, negative=1)),
    ],
)
def test_hits_count_inflections_phrases_and_negation(
    text: str, language: str, hits: LexiconHits
) -> None:
    assert count_lexicon_hits(text, language) == hits


def test_a_negator_reaches_only_the_next_hit_in_its_clause() -> None:
    # "niet" negates "tevreden", not the complaint after the comma
    assert count_lexicon_hits("Niet tevreden, kapot", "nl") == LexiconHits(0, 2)
    # "no problem" is praise, and the negator does not reach past the full stop
    assert count_lexicon_hits("No problem. Great help!", "en") == LexiconHits(2, 0)


def test_a_language_without_a_lexicon_has_no_hits() -> None:
    assert count_lexicon_hits("Die Lieferung war kaputt", "de") == LexiconHits(0, 0)
