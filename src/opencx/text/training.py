"""Train the default models from XED (Öhman et al., 2020, CC BY 4.0) reproducibly.

Sentiment labels come from XED's emotions: joy or trust -> positive; anger, disgust, fear or
sadness -> negative; lines from neu_*.txt -> neutral. Anticipation and surprise can go either way
(Plutchik), so a line with only those is neutral. A line with both positive and negative emotions
is ambiguous and left out of sentiment training (it still trains the emotion models).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from opencx.text.evaluation import compute_classification_report, compute_micro_f1
from opencx.text.features import extract_features
from opencx.text.lexicon import SEED_LEXICON
from opencx.text.model import (
    EMOTIONS,
    MODELS_DIR,
    SENTIMENTS,
    LanguageModel,
    file_digest,
    load_model,
)

SEED = 20201208
MAX_FEATURES = 20000
MIN_DOCUMENT_FREQUENCY = 2
SPLIT = (0.7, 0.1, 0.2)  # train, validation (model choice), test (kept aside, reported)
POSITIVE_EMOTIONS = {5, 8}
NEGATIVE_EMOTIONS = {1, 3, 4, 6}
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)
LEXICON_WEIGHT = 1.5
VADER_WEIGHTS = (0.0, 1.0, 2.0, 3.0)
ATTRIBUTION = (
    "Öhman, E., Pàmies, M., Kajava, K. and Tiedemann, J., 2020. XED: A Multilingual Dataset "
    "for Sentiment Analysis and Emotion Detection. COLING 2020. "
    "https://github.com/Helsinki-NLP/XED - licensed CC BY 4.0."
)
TRAINED_LANGUAGES = ("en", "nl", "pl", "de", "fr", "es", "it", "pt", "sv", "da", "fi", "cs")


@dataclass(frozen=True)
class Example:
    """One XED line: its text, emotion numbers (1-8) and whether it is a neutral line."""

    text: str
    emotions: frozenset[int]
    neutral: bool


def _read_labelled_lines(source: Path) -> dict[str, set[int]]:
    emotions: dict[str, set[int]] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        text, _, labels = line.rpartition("\t")
        numbers = [part.strip() for part in labels.split(",")]
        # a few projected lines carry stray quotes or tabs; a line without clean labels is skipped
        if text.strip() and numbers and all(n.isdigit() and 1 <= int(n) <= 8 for n in numbers):
            emotions.setdefault(text.strip(), set()).update(int(n) for n in numbers)
    return emotions


def read_xed(data_dir: Path, language: str) -> list[Example]:
    """Read a language's XED lines (annotated and neutral where they exist), duplicates merged."""
    annotated = data_dir / "AnnotatedData" / f"{language}-annotated.tsv"
    projected = data_dir / "Projections" / f"{language}-projections.tsv"
    emotions = _read_labelled_lines(annotated if annotated.is_file() else projected)
    examples = [Example(text, frozenset(found), False) for text, found in emotions.items()]
    neutral = data_dir / "AnnotatedData" / f"neu_{language}.txt"
    if neutral.is_file():
        seen = set(emotions)
        for line in neutral.read_text(encoding="utf-8").splitlines():
            text = line.partition("\t")[2].strip()
            if text and text not in seen:
                seen.add(text)
                examples.append(Example(text, frozenset(), True))
    return sorted(examples, key=lambda example: example.text)


def read_extra_training_lines(data_dir: Path, language: str, held_out: set[str]) -> list[Example]:
    """Projected lines of a language that also has annotated ones (en, fi): training data only.

    Lines whose text is in the validation or test part are left out, so nothing leaks.
    """
    annotated = data_dir / "AnnotatedData" / f"{language}-annotated.tsv"
    projected = data_dir / "Projections" / f"{language}-projections.tsv"
    if not (annotated.is_file() and projected.is_file()):
        return []
    emotions = _read_labelled_lines(projected)
    extra = [
        Example(text, frozenset(found), False)
        for text, found in emotions.items()
        if text not in held_out
    ]
    return sorted(extra, key=lambda example: example.text)


def sentiment_label(example: Example) -> str | None:
    """Derive negative/neutral/positive from XED emotions; None when ambiguous."""
    positive = bool(example.emotions & POSITIVE_EMOTIONS)
    negative = bool(example.emotions & NEGATIVE_EMOTIONS)
    if positive and negative:
        return None
    if positive:
        return "positive"
    if negative:
        return "negative"
    return "neutral"


def split_examples(examples: list[Example]) -> tuple[list[Example], list[Example], list[Example]]:
    """Shuffle with the fixed seed and cut into train, validation and test parts."""
    order = np.random.default_rng(SEED).permutation(len(examples))
    train_end = int(SPLIT[0] * len(examples))
    validation_end = int((SPLIT[0] + SPLIT[1]) * len(examples))
    shuffled = [examples[i] for i in order]
    return shuffled[:train_end], shuffled[train_end:validation_end], shuffled[validation_end:]


def build_vocabulary(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Features in at least two texts, the most frequent first (capped), and their idf."""
    document_frequency: Counter[str] = Counter()
    for text in texts:
        document_frequency.update(set(extract_features(text)))
    kept = [
        (count, feature)
        for feature, count in document_frequency.items()
        if count >= MIN_DOCUMENT_FREQUENCY
    ]
    kept.sort(key=lambda item: (-item[0], item[1]))
    vocabulary = [feature for _, feature in kept[:MAX_FEATURES]]
    idf = np.array(
        [math.log((1 + len(texts)) / (1 + document_frequency[f])) + 1 for f in vocabulary],
        dtype=np.float32,
    )
    return vocabulary, idf


def tfidf_matrix(texts: list[str], index: dict[str, int], idf: np.ndarray) -> Any:
    """The texts' TF-IDF rows as a scipy sparse matrix (what scikit-learn trains on)."""
    from scipy.sparse import csr_matrix

    rows, columns, values = [], [], []
    for row, text in enumerate(texts):
        counts = Counter(index[f] for f in extract_features(text) if f in index)
        weights = {i: (1 + math.log(n)) * float(idf[i]) for i, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        for column, weight in weights.items():
            rows.append(row)
            columns.append(column)
            values.append(weight / norm)
    return csr_matrix((values, (rows, columns)), shape=(len(texts), len(idf)), dtype=np.float32)


def _emotion_targets(examples: list[Example]) -> np.ndarray:
    return np.array([[n in e.emotions for n in range(1, 9)] for e in examples], dtype=bool)


def _fit_sentiment(
    train_x: Any, train_y: list[str], validation_x: Any, validation_y: list[str]
) -> tuple[float, np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    best = None
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        model.fit(train_x, train_y)
        f1 = compute_classification_report(
            validation_y, list(model.predict(validation_x)), SENTIMENTS
        ).macro_f1
        if best is None or f1 > best[0]:
            best = (f1, c, model)
    assert best is not None
    order = [list(best[2].classes_).index(label) for label in SENTIMENTS]
    return best[1], best[2].coef_[order].T, best[2].intercept_[order]


def _fit_emotions(
    train_x: Any, train_t: np.ndarray, validation_x: Any, validation_t: np.ndarray
) -> tuple[float, float, np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    best = None
    for c in C_GRID:
        weights, biases, probabilities = [], [], []
        for column in range(len(EMOTIONS)):
            model = LogisticRegression(C=c, max_iter=2000)
            model.fit(train_x, train_t[:, column])
            weights.append(model.coef_[0])
            biases.append(model.intercept_[0])
            probabilities.append(model.predict_proba(validation_x)[:, 1])
        stacked = np.column_stack(probabilities)
        threshold, f1 = _best_threshold(stacked, validation_t)
        if best is None or f1 > best[0]:
            best = (f1, c, threshold, np.column_stack(weights), np.array(biases))
    assert best is not None
    return best[1:]


def predict_emotion_sets(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Emotions at or above the threshold, and always the likeliest one (XED lines have one)."""
    chosen = probabilities >= threshold
    chosen[np.arange(len(probabilities)), probabilities.argmax(axis=1)] = True
    return chosen


def _best_threshold(probabilities: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    candidates = [
        (compute_micro_f1(truth, predict_emotion_sets(probabilities, t)), float(t))
        for t in np.arange(0.05, 0.95, 0.025)
    ]
    f1, threshold = max(candidates)
    return round(threshold, 3), f1


def _sentiment_reports(
    model: LanguageModel, examples: list[Example], vader: bool
) -> dict[str, Any]:
    """Macro-F1 and accuracy of the saved model with and without the lexicons."""
    labelled = [(e.text, sentiment_label(e)) for e in examples if sentiment_label(e)]
    texts = [text for text, _ in labelled]
    truth = [str(label) for _, label in labelled]
    linear, _ = model.linear_scores(texts)
    reports: dict[str, Any] = {}
    variants = {"xed_only": (0.0, 0.0)}
    if model.lexicon_weight:
        variants["with_seed_lexicon"] = (model.lexicon_weight, 0.0)
    if vader:
        variants["with_seed_lexicon_and_vader"] = (model.lexicon_weight, model.vader_weight)
    saved = (model.lexicon_weight, model.vader_weight)
    for name, (lexicon_weight, vader_weight) in variants.items():
        model.lexicon_weight, model.vader_weight = lexicon_weight, vader_weight
        scores = linear + model.lexicon_scores(texts)
        predicted = [SENTIMENTS[i] for i in scores.argmax(axis=1)]
        report = compute_classification_report(truth, predicted, SENTIMENTS)
        reports[name] = {
            "accuracy": round(report.accuracy, 4),
            "macro_f1": round(report.macro_f1, 4),
            "count": report.count,
            "confusion": report.confusion,
        }
    model.lexicon_weight, model.vader_weight = saved
    return reports


def train_language(data_dir: Path, language: str, output_dir: Path = MODELS_DIR) -> dict[str, Any]:
    """Train, save and measure one language's model; return its measured quality."""
    from threadpoolctl import threadpool_limits

    # one BLAS thread: the solver's result then does not depend on the machine's core count
    with threadpool_limits(limits=1):
        return _train_language(data_dir, language, output_dir)


def _train_language(data_dir: Path, language: str, output_dir: Path) -> dict[str, Any]:
    examples = read_xed(data_dir, language)
    train, validation, test = split_examples(examples)
    held_out = {e.text for e in validation} | {e.text for e in test}
    train_texts = {e.text for e in train}
    extra = [
        e
        for e in read_extra_training_lines(data_dir, language, held_out)
        if e.text not in train_texts
    ]
    train = train + extra
    vocabulary, idf = build_vocabulary([e.text for e in train])
    index = {feature: i for i, feature in enumerate(vocabulary)}

    def sentiment_part(part: list[Example]) -> tuple[Any, list[str]]:
        labelled = [(e, label) for e in part if (label := sentiment_label(e))]
        return tfidf_matrix([e.text for e, _ in labelled], index, idf), [
            label for _, label in labelled
        ]

    def emotion_part(part: list[Example]) -> tuple[Any, np.ndarray]:
        emotional = [e for e in part if e.emotions]
        return tfidf_matrix([e.text for e in emotional], index, idf), _emotion_targets(emotional)

    sentiment_c, sentiment_weights, sentiment_bias = _fit_sentiment(
        *sentiment_part(train), *sentiment_part(validation)
    )
    emotion_c, threshold, emotion_weights, emotion_bias = _fit_emotions(
        *emotion_part(train), *emotion_part(validation)
    )
    folder = output_dir / language
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocabulary.json").write_text(
        json.dumps(vocabulary, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    with (folder / "weights.npz").open("wb") as handle:
        np.savez_compressed(
            handle,
            idf=idf.astype(np.float32),
            sentiment_weights=sentiment_weights.astype(np.float16),
            sentiment_bias=sentiment_bias.astype(np.float32),
            emotion_weights=emotion_weights.astype(np.float16),
            emotion_bias=emotion_bias.astype(np.float32),
        )
    metadata: dict[str, Any] = {
        "identifier": f"opencx-xed-{language}-1",
        "language": language,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {
            "source": "XED",
            "attribution": ATTRIBUTION,
            "examples": len(examples),
            "split_seed": SEED,
            "split": {"train": len(train), "validation": len(validation), "test": len(test)},
            "projected_lines_added_to_train": len(extra),
        },
        "features": {"max_features": MAX_FEATURES, "vocabulary": len(vocabulary)},
        "sentiment_c": sentiment_c,
        "emotion_c": emotion_c,
        "emotion_threshold": threshold,
        "lexicon_weight": LEXICON_WEIGHT if language in SEED_LEXICON else 0.0,
        "vader_weight": 0.0,
        "sha256": {
            "vocabulary.json": file_digest(folder / "vocabulary.json"),
            "weights.npz": file_digest(folder / "weights.npz"),
        },
    }
    _write_metadata(folder, metadata)
    model = load_model(folder)
    if language == "en":
        model.vader_weight = metadata["vader_weight"] = _best_vader_weight(model, validation)
    emotional_test = [e for e in test if e.emotions]
    _, emotion_scores = model.linear_scores([e.text for e in emotional_test])
    probabilities = 1.0 / (1.0 + np.exp(-emotion_scores))
    metadata["test"] = {
        "sentiment": _sentiment_reports(model, test, vader=language == "en"),
        "emotion_micro_f1": round(
            compute_micro_f1(
                _emotion_targets(emotional_test), predict_emotion_sets(probabilities, threshold)
            ),
            4,
        ),
        "emotion_count": len(emotional_test),
    }
    _write_metadata(folder, metadata)
    write_model_card(folder, metadata)
    return metadata


def _best_vader_weight(model: LanguageModel, validation: list[Example]) -> float:
    best = (-1.0, 0.0)
    for weight in VADER_WEIGHTS:
        model.vader_weight = weight
        f1 = _sentiment_reports(model, validation, vader=True)["with_seed_lexicon_and_vader"][
            "macro_f1"
        ]
        best = max(best, (f1, weight))
    return best[1]


def _write_metadata(folder: Path, metadata: dict[str, Any]) -> None:
    (folder / "metadata.json").write_text(
        json.dumps(metadata, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _run_time_lexicons(metadata: dict[str, Any]) -> str:
    if not metadata["lexicon_weight"]:
        return "This language has no customer-service seed lexicon yet."
    text = (
        "At run time a hand-written customer-service seed lexicon adds "
        f"{metadata['lexicon_weight']} to the negative or positive score per hit (negation-aware)"
    )
    if metadata["vader_weight"]:
        text += f", and VADER's compound score (MIT licence) with weight {metadata['vader_weight']}"
    return text + "."


def _lexicon_limit(metadata: dict[str, Any]) -> str:
    if metadata["lexicon_weight"]:
        return "The seed lexicon makes up for the commonest of them."
    return "Without a seed lexicon, expect customer texts to score worse than the figures here."


def write_model_card(folder: Path, metadata: dict[str, Any]) -> None:
    """Write MODEL_CARD.md: data, licence and attribution, method and measured quality."""
    test = metadata["test"]
    split = metadata["data"]["split"]
    rows = "\n".join(
        f"| {name.replace('_', ' ')} | {r['count']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} |"
        for name, r in test["sentiment"].items()
    )
    card = f"""# Model card: {metadata["identifier"]}

Language: `{metadata["language"]}`. Trained {metadata["trained_at"]} by `opencx text train`
(src/opencx/text/training.py); the same command on the same data rebuilds it.

## Data, licence and attribution
XED, movie subtitle lines annotated with Plutchik's eight emotions (English and Finnish by
people, other languages by projection through aligned subtitles). Licensed CC BY 4.0;
attribution: {metadata["data"]["attribution"]}

{metadata["data"]["examples"]} distinct lines, split with seed {metadata["data"]["split_seed"]}
into {split["train"]} train ({metadata["data"].get("projected_lines_added_to_train", 0)} of them projected
lines of this language added to training only), {split["validation"]} validation (model choice) and
{split["test"]} test lines (kept aside; the figures below are measured on them only).

## Method
TF-IDF over word unigrams, word bigrams and character 3-5-grams within words (vocabulary
capped at {metadata["features"]["max_features"]}, {metadata["features"]["vocabulary"]} kept),
a multinomial logistic regression for sentiment (C={metadata["sentiment_c"]}, balanced classes)
and one logistic regression per emotion (C={metadata["emotion_c"]}). Sentiment labels: joy or
trust -> positive; anger, disgust, fear or sadness -> negative; XED's neutral lines where the
language has them, and lines with only anticipation or surprise -> neutral; lines with both
polarities are left out. {_run_time_lexicons(metadata)}
Weights are stored as float16 arrays in weights.npz, the vocabulary as JSON; no pickle.

## Measured quality (held-out XED test split)
| sentiment variant | texts | accuracy | macro-F1 |
|---|---:|---:|---:|
{rows}

Emotion micro-F1 ({test["emotion_count"]} test lines with at least one emotion; an emotion is
predicted at probability >= {metadata["emotion_threshold"]}, and the likeliest one always):
{test["emotion_micro_f1"]:.3f}.

## Limits
Subtitles are not customer feedback: the XED-only model misses customer-service words.
{_lexicon_limit(metadata)} Projected labels (all languages but en and fi) are noisy, so the
figures above understate agreement with people and are not comparable across languages.
"""
    (folder / "MODEL_CARD.md").write_text(card, encoding="utf-8")
