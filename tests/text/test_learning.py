"""Learning sentiment from an organization's own rated texts, measured against the default model."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from opencx.text import ModelError, analyze
from opencx.text.evaluation import LabelledText
from opencx.text.learning import (
    learn_sentiment,
    learned_model_files,
    learned_model_from_files,
    load_learned_model,
    save_learned_model,
    stratified_folds,
)

# A furniture shop's comments: praise and complaints in its own words (sagging cushions, a
# wobbling table), which subtitles and the seed lexicon do not weigh.
PRODUCTS = ("sofa", "dining table", "wardrobe", "armchair", "bed frame", "bookcase", "desk")
OPENINGS = ("We ordered the", "Got the", "The", "Bought the", "My new", "Our")
NEGATIVE = (
    "wobbles on every leg",
    "cushions are sagging after a week",
    "veneer is peeling at the corners",
    "creaks every time you sit",
    "smells of glue in the whole room",
    "drawer rails jam halfway",
    "fabric pills already",
    "colour faded in the sun",
    "doors hang crooked",
    "stitching came loose",
)
POSITIVE = (
    "is solid oak and sturdy",
    "feels cosy and the fabric is soft",
    "fits the alcove to the centimetre",
    "was assembled in ten minutes",
    "colour is exactly as pictured",
    "stands firm without a wobble",
    "drawers glide silently",
    "seat keeps its shape",
    "finish is smooth and even",
    "looks like a designer piece",
)
CLOSINGS = ("", ".", " this month.", ", as for the rest nothing to add.", " - bought online.")


def furniture_comments(per_class: int, seed: int = 7) -> list[LabelledText]:
    rng = random.Random(seed)
    examples = []
    for label, phrases in (("negative", NEGATIVE), ("positive", POSITIVE)):
        combinations = list(itertools.product(OPENINGS, PRODUCTS, phrases, CLOSINGS))
        for opening, product, phrase, closing in rng.sample(combinations, per_class):
            examples.append(LabelledText(f"{opening} {product} {phrase}{closing}", label, "en"))
    rng.shuffle(examples)
    return examples


@pytest.fixture(scope="module")
def learned() -> dict:
    return learn_sentiment(furniture_comments(80), identifier_prefix="org-acme-1")


def test_folds_are_stratified() -> None:
    labels = ["negative"] * 50 + ["positive"] * 100
    folds = stratified_folds(labels, 5)
    for fold in range(5):
        held = [label for label, f in zip(labels, folds, strict=True) if f == fold]
        assert held.count("negative") == 10 and held.count("positive") == 20


def test_a_learned_model_beats_the_default_on_domain_words_and_is_chosen(learned: dict) -> None:
    # given 80 rated complaints and 80 rated compliments in the shop's own words
    report = learned["en"]
    # then both were measured on the same held-out folds, and the learned model is better
    assert report.labels == ("negative", "positive")
    assert report.counts == {"negative": 80, "neutral": 0, "positive": 80}
    assert report.learned.macro_f1 >= report.default.macro_f1 + 0.02
    assert report.learned.accuracy > report.default.accuracy
    assert report.chosen
    cv = report.model.metadata["cross_validation"]
    assert cv["learned"]["macro_f1"] == report.learned.macro_f1
    assert cv["default"]["macro_f1"] == report.default.macro_f1


def test_analyze_uses_the_learned_sentiment_and_keeps_default_emotions(learned: dict) -> None:
    model = learned["en"].model
    # given new comments, not in the training data
    texts = ["The coffee table wobbles on every leg", "The coffee table drawers glide silently"]
    default = analyze(texts, lang="en")
    # when analysed with the organization's learned model
    results = analyze(texts, lang="en", custom_sentiment={"en": model})
    assert [r.sentiment for r in results] == ["negative", "positive"]
    assert results[0].model == "org-acme-1-en+opencx-xed-en-1"
    assert results[0].emotions == default[0].emotions
    # and a language without a learned model keeps the default
    dutch = analyze(["De bank is kapot"], lang="nl", custom_sentiment={"en": model})
    assert dutch[0].model == "opencx-xed-nl-1"


def test_too_little_data_learns_nothing() -> None:
    # given only 30 rated comments per sentiment
    report = learn_sentiment(furniture_comments(30), identifier_prefix="org-acme-1")["en"]
    # then no model is trained or measured
    assert report.model is None and not report.chosen
    assert report.learned is None and report.default is None
    assert "fewer than 50" in report.reason


def test_a_model_no_better_than_the_default_is_not_chosen() -> None:
    # given rated comments the default model already gets right (the seed lexicon's words)
    rng = random.Random(3)
    examples = [
        LabelledText(f"{o} {p} {w}", label, "en")
        for label, words in (
            ("negative", ("arrived broken", "was damaged", "came late", "was terrible")),
            ("positive", ("is great", "is excellent", "is perfect", "is amazing")),
        )
        for o, p, w in rng.sample(list(itertools.product(OPENINGS, PRODUCTS, words)), 60)
    ]
    report = learn_sentiment(examples, identifier_prefix="org-acme-1")["en"]
    # then the learned model is measured but kept out: it cannot beat the default by the margin
    assert report.default.macro_f1 > 0.95
    assert report.model is not None and not report.chosen


def test_saved_files_load_back_and_score_the_same(learned: dict, tmp_path: Path) -> None:
    model = learned["en"].model
    save_learned_model(model, tmp_path / "en")
    loaded = load_learned_model(tmp_path / "en")
    texts = ["The sofa wobbles on every leg", "It is solid oak"]
    assert (loaded.score(texts) == model.score(texts)).all()
    assert loaded.metadata["counts"] == {"negative": 80, "neutral": 0, "positive": 80}


def test_a_tampered_learned_model_is_refused(learned: dict) -> None:
    files = learned_model_files(learned["en"].model)
    weights = bytearray(files["weights.npz"])
    weights[len(weights) // 2] ^= 0xFF
    files["weights.npz"] = bytes(weights)
    with pytest.raises(ModelError, match=r"weights\.npz does not match"):
        learned_model_from_files(files, "org 1 en")
    del files["vocabulary.json"]
    with pytest.raises(ModelError, match=r"lacks vocabulary\.json"):
        learned_model_from_files(files, "org 1 en")


def test_labels_outside_the_three_sentiments_are_refused() -> None:
    with pytest.raises(ValueError, match="label must be one of"):
        learn_sentiment([LabelledText("fine", "meh", "en")], identifier_prefix="x")
