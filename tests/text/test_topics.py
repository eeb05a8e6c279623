"""Key phrases, topic discovery and assignment on small crafted corpora."""

from __future__ import annotations

import random

import pytest

from opencx.text import ModelError
from opencx.text.topics import (
    assign_topics,
    discover_topics,
    extract_phrases,
    key_phrases,
    match_topics,
    topic_vocabulary_from_json,
    topic_vocabulary_to_json,
)

ITEMS = ["sofa", "lamp", "table", "chair", "rug", "bed", "desk", "shelf", "mirror", "cabinet"]
OPENINGS = ["Hello,", "Hi team,", "Again!", "", "Dear shop,", "Good morning,"]
CLOSINGS = ["please help.", "what now?", "not happy.", "any news?", "thanks.", "call me back.", ""]
LATE = [
    "the {item} delivery is late",
    "late delivery of my {item}",
    "my {item} is late, the delivery was promised for Monday",
    "the delivery of the {item} came late",
    "my {item} delivery is {days} days late",
]
DAMAGED = [
    "my {item} arrived damaged",
    "the {item} is broken, it arrived damaged",
    "damaged {item}: it arrived broken",
    "my {item} arrived broken and damaged",
    "the {item} arrived damaged, one part is broken",
]


def two_themes(per_theme: int = 30, seed: int = 7) -> tuple[list[str], list[str]]:
    """Texts of two clear themes (late delivery, damaged item) about any item, with greetings
    and closings that belong to neither, shuffled; and each text's theme."""
    rng = random.Random(seed)

    def text(phrasings: list[str]) -> str:
        middle = rng.choice(phrasings).format(item=rng.choice(ITEMS), days=rng.randint(2, 9))
        return " ".join(p for p in (rng.choice(OPENINGS), middle + ",", rng.choice(CLOSINGS)) if p)

    pairs = [(text(LATE), "late") for _ in range(per_theme)]
    pairs += [(text(DAMAGED), "damaged") for _ in range(per_theme)]
    rng.shuffle(pairs)
    return [text for text, _ in pairs], [theme for _, theme in pairs]


def test_phrases_are_lemmas_of_content_words_without_stop_words() -> None:
    # given short customer texts in Dutch, Polish and English
    nl = extract_phrases(["Het pakket kwam veel te laat"], "nl")[0]
    pl = extract_phrases(["Paczki nie dotarły na czas"], "pl")[0]
    en = extract_phrases(["The deliveries were late and came in crushed boxes"], "en")[0]
    # then stop words are gone and words are lemmas, alone and in adjacent pairs
    assert "pakket" in nl and "het" not in nl and "te" not in nl
    assert "paczka" in pl and "nie" not in pl
    assert {"delivery", "late", "box", "crush", "crush box"} <= set(en)
    assert "the" not in en and "were" not in en


def test_key_phrases_are_shown_as_written_two_word_phrases_first() -> None:
    # when the key phrases of a comment are asked
    phrases = key_phrases("Snelle levering, maar de kast was beschadigd.", "nl")
    # then two-word phrases come first, as the customer wrote them, and stop words never
    assert phrases[0] == "snelle levering"
    assert "kast" in phrases and "maar" not in phrases and "de" not in phrases


@pytest.mark.parametrize(("per_theme", "seed"), [(20, 3), (30, 7), (60, 4), (100, 5)])
def test_two_clear_themes_come_out_as_two_topics(per_theme: int, seed: int) -> None:
    # given texts about late deliveries and damaged items (of ten products, with greetings)
    texts, themes = two_themes(per_theme, seed)
    # when topics are discovered without saying how many
    vocabulary = discover_topics(texts, "en")
    # then there are two, each named by its theme's phrases, and each holds one theme's texts
    assert len(vocabulary.topics) == 2
    labels = {t.key: t.label for t in vocabulary.topics}
    late_key = next(k for k, label in labels.items() if "late" in label)
    damaged_key = next(k for k, label in labels.items() if "damaged" in label or "broken" in label)
    assert late_key != damaged_key
    assigned = assign_topics(texts, vocabulary)
    for found, theme in zip(assigned, themes, strict=True):
        assert found, "every text of a clear theme gets a topic"
        assert found[0].key == (late_key if theme == "late" else damaged_key)


def test_new_texts_get_topics_without_retraining_and_unrelated_ones_none() -> None:
    # given a vocabulary learned from the two themes
    vocabulary = discover_topics(two_themes()[0], "en")
    late = next(t.key for t in vocabulary.topics if "late" in t.label)
    # when new texts are assigned
    found = assign_topics(
        ["Once more my delivery is late", "Can I pay with a gift card?"], vocabulary
    )
    # then the late one gets the late topic and the unrelated question gets none
    assert found[0][0].key == late and 0 < found[0][0].weight <= 1
    assert found[1] == []


def test_discovery_is_deterministic_and_saved_as_json() -> None:
    texts = two_themes()[0]
    # when the same texts are learned twice
    first, second = discover_topics(texts, "en"), discover_topics(texts, "en")
    # then the saved vocabularies are identical, and a saved one assigns as the original does
    saved = topic_vocabulary_to_json(first)
    assert saved == topic_vocabulary_to_json(second)
    loaded = topic_vocabulary_from_json(saved)
    assert assign_topics(texts, loaded) == assign_topics(texts, first)


def test_a_broken_vocabulary_file_is_refused_naming_it() -> None:
    with pytest.raises(ModelError, match=r"shop\.json"):
        topic_vocabulary_from_json('{"format": "something else"}', "shop.json")
    with pytest.raises(ModelError, match="not a topic vocabulary"):
        topic_vocabulary_from_json('{"format": "opencx-topics-1", "topics": 3}')


def test_too_few_texts_give_no_topics() -> None:
    vocabulary = discover_topics(["The parcel is late", "Broken table"], "en")
    assert vocabulary.topics == ()
    assert assign_topics(["The parcel is late"], vocabulary) == [[]]


def test_relearnt_topics_are_matched_to_previous_ones_by_their_phrases() -> None:
    # given the topics of the two themes, and a relearning on more texts of the same themes
    before = discover_topics(two_themes(30, seed=1)[0], "en").topics
    after = discover_topics(two_themes(45, seed=2)[0], "en").topics
    # when they are matched
    matched = match_topics([t.phrases for t in before], [t.phrases for t in after])
    # then each new topic is paired with the old topic of its theme
    assert len(matched) == 2
    for new_index, old_index in matched.items():
        assert ("late" in after[new_index].label) == ("late" in before[old_index].label)
    # and a topic of other phrases matches nothing
    assert match_topics([t.phrases for t in before], [{"gift card": 1.0, "pay": 0.5}]) == {}
