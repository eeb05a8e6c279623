"""analyze(): language, sentiment and the eight emotions of a batch of customer texts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from opencx.text import EMOTIONS, UNKNOWN, TextAnalysis, analyze

CUSTOMER_SENTENCES = Path(__file__).parent / "data" / "customer_sentences.csv"


def customer_sentences() -> list[dict[str, str]]:
    with CUSTOMER_SENTENCES.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_result_has_language_sentiment_and_the_eight_emotions() -> None:
    # given a batch of texts in three languages and one too short to tell
    texts = [
        "Het pakket kwam te laat.",
        "Bardzo dziękuję za pomoc!",
        "The refund never came.",
        "ok",
    ]
    # when they are analysed together
    results = analyze(texts)
    # then each text has one result, in order, with a full and valid analysis
    assert [r.language for r in results] == ["nl", "pl", "en", UNKNOWN]
    for result in results:
        assert isinstance(result, TextAnalysis)
        assert result.sentiment in {"negative", "neutral", "positive"}
        assert -1.0 <= result.sentiment_score <= 1.0
        assert tuple(result.emotions) == EMOTIONS
        assert all(0.0 <= p <= 1.0 for p in result.emotions.values())
        assert result.model.startswith("opencx-xed-")
        assert 0.0 <= result.language_confidence <= 1.0
    assert results[0].model == "opencx-xed-nl-1"
    assert results[1].model == "opencx-xed-pl-1"
    # a text of unknown language is scored by the English fallback, and says so
    assert results[3].model == "opencx-xed-en-1"


def test_other_default_languages_get_their_own_model() -> None:
    # given complaints in German and French
    german, french = analyze(
        [
            "Die Lieferung kam viel zu spät und niemand antwortet auf meine E-Mails.",
            "Le colis est arrivé en retard et personne ne répond au téléphone.",
        ]
    )
    # then each is scored by the model of its own language
    assert (german.language, german.model) == ("de", "opencx-xed-de-1")
    assert (french.language, french.model) == ("fr", "opencx-xed-fr-1")


def test_a_given_language_skips_detection() -> None:
    # given a short Polish text that detection alone could not place
    # when it is analysed as Polish
    (result,) = analyze(["Dzięki!"], lang="pl")
    # then Polish is taken as certain and the Polish model scores it
    assert (result.language, result.language_confidence) == ("pl", 1.0)
    assert result.model == "opencx-xed-pl-1"


def test_an_empty_batch_gives_no_results() -> None:
    assert analyze([]) == []


def test_results_are_immutable() -> None:
    (result,) = analyze(["The parcel arrived on time."])
    with pytest.raises(AttributeError):
        result.sentiment = "negative"  # type: ignore[misc]


@pytest.mark.parametrize("language", ["nl", "pl", "en"])
def test_clear_customer_sentences_get_the_right_sentiment(language: str) -> None:
    # given clear complaints and clear praise written by customers of a web shop
    rows = [row for row in customer_sentences() if row["lang"] == language]
    # when they are analysed without telling the language
    results = analyze([row["text"] for row in rows])
    # then the language is found and each sentiment matches its label
    assert [r.language for r in results] == [language] * len(rows)
    wrong = [
        (row["text"], result.sentiment)
        for row, result in zip(rows, results, strict=True)
        if result.sentiment != row["label"]
    ]
    assert wrong == []


def test_the_score_follows_the_label() -> None:
    # given a clear complaint and clear praise
    complaint, praise = analyze(
        ["Terrible service, the order was broken and late.", "Excellent, fast and friendly!"]
    )
    # then the complaint scores below zero and the praise above
    assert complaint.sentiment_score < 0 < praise.sentiment_score


def test_emotions_tell_a_complaint_from_praise() -> None:
    # given an angry complaint and a happy thank-you
    complaint, praise = analyze(
        [
            "I am furious, this is the third time you sent me the wrong item!",
            "Thank you so much, I love it and I am very happy!",
        ]
    )
    # then anger is likelier in the complaint and joy in the thank-you
    assert complaint.emotions["anger"] > praise.emotions["anger"]
    assert praise.emotions["joy"] > complaint.emotions["joy"]
