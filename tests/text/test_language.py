"""Language detection among the configured languages, with "unknown" when it cannot tell."""

from __future__ import annotations

import pytest

from opencx.text import UNKNOWN, detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Het pakket kwam te laat en de doos was kapot.", "nl"),
        ("Ik ben erg tevreden over de snelle levering.", "nl"),
        ("Przesyłka dotarła szybko, bardzo polecam ten sklep!", "pl"),
        ("Od miesiąca czekam na zwrot pieniędzy.", "pl"),
        ("The delivery was late and the box was broken.", "en"),
        ("Thank you for the quick and friendly help.", "en"),
    ],
)
def test_detects_the_language_of_a_customer_sentence(text: str, language: str) -> None:
    # given a sentence in one of the default languages
    # when its language is detected
    detected = detect_language(text)
    # then it is that language, with high confidence
    assert detected.language == language
    assert detected.confidence > 0.9


@pytest.mark.parametrize("text", ["ok", "", "👍", "12345 !!!"])
def test_too_short_a_text_is_unknown(text: str) -> None:
    # given a text with too few letters to tell a language
    # when its language is detected
    detected = detect_language(text)
    # then the language is unknown
    assert detected.language == UNKNOWN


def test_only_the_configured_languages_are_candidates() -> None:
    # given a German sentence and a configuration without German
    text = "Die Lieferung kam leider viel zu spät und der Karton war beschädigt."
    # when its language is detected with and without German configured
    with_german = detect_language(text)
    without_german = detect_language(text, ("nl", "pl", "en"))
    # then German is found only where it is configured
    assert with_german.language == "de"
    assert without_german.language in {"nl", "pl", "en", UNKNOWN}
