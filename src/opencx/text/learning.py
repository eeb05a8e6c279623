"""Learn a sentiment model from an organization's own labelled texts, measured against the default.

Per language with enough examples (MIN_PER_CLASS of at least two sentiments), a model with the
default models' features and scorer is measured by stratified k-fold cross-validation against the
default model on the same held-out folds; it is marked `chosen` only where its macro-F1 beats the
default's by MARGIN. Saved like the default models: metadata.json, vocabulary.json and
weights.npz (loaded with allow_pickle=False), never pickle.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from opencx.text.evaluation import LabelledText, compute_classification_report
from opencx.text.language import DEFAULT_LANGUAGES, UNKNOWN, detect_language
from opencx.text.model import SENTIMENTS, ModelError, shipped_model, tfidf_entries

MIN_PER_CLASS = 50
FOLDS = 5
# the learned model replaces the default only when its cross-validated macro-F1 is this much higher
MARGIN = 0.02
C = 2.0
# the weight of the learned model's probabilities; the rest is the default model's. Averaging keeps
# the default's knowledge of the language for words the organization's comments never used.
LEARNED_WEIGHT = 0.5
SEED = 20261130
FILES = ("metadata.json", "vocabulary.json", "weights.npz")
ARRAYS = ("idf", "sentiment_weights", "sentiment_bias")


@dataclass(frozen=True)
class Quality:
    """Accuracy and macro-F1 over the held-out folds."""

    accuracy: float
    macro_f1: float


class LearnedSentimentModel:
    """TF-IDF features and a linear sentiment model over the sentiments the organization rated."""

    def __init__(
        self, metadata: dict[str, Any], vocabulary: list[str], arrays: dict[str, np.ndarray]
    ):
        self.metadata = metadata
        self.identifier: str = metadata["identifier"]
        self.language: str = metadata["language"]
        self.labels: tuple[str, ...] = tuple(metadata["labels"])
        self.vocabulary = {feature: index for index, feature in enumerate(vocabulary)}
        self.idf = arrays["idf"].astype(np.float32)
        self.weights = arrays["sentiment_weights"].astype(np.float32)
        self.bias = arrays["sentiment_bias"].astype(np.float32)
        self.learned_weight = float(metadata.get("learned_weight", LEARNED_WEIGHT))

    def blend(self, default: np.ndarray, texts: list[str]) -> np.ndarray:
        """The sentiment probabilities used: the default's (n, 3) averaged with this model's."""
        return (1.0 - self.learned_weight) * default + self.learned_weight * self.score(texts)

    def score(self, texts: list[str]) -> np.ndarray:
        """This model's own probabilities (n, 3) over negative, neutral, positive (unlearned: 0)."""
        rows, columns, values = tfidf_entries(texts, self.vocabulary, self.idf)
        linear = np.tile(self.bias, (len(texts), 1))
        np.add.at(linear, rows, self.weights[columns] * values[:, None])
        linear -= linear.max(axis=1, keepdims=True)
        exp = np.exp(linear)
        probabilities = np.zeros((len(texts), len(SENTIMENTS)), dtype=np.float32)
        for column, label in enumerate(self.labels):
            probabilities[:, SENTIMENTS.index(label)] = exp[:, column]
        return probabilities / probabilities.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class LearningReport:
    """What learning found for one language: counts, measured quality of both, and the choice."""

    language: str
    counts: dict[str, int]
    labels: tuple[str, ...]
    default: Quality | None
    learned: Quality | None
    chosen: bool
    reason: str
    model: LearnedSentimentModel | None


def _language_of(example: LabelledText, languages: tuple[str, ...]) -> str:
    return example.language or detect_language(example.text, languages).language


def stratified_folds(labels: Sequence[str], folds: int, seed: int = SEED) -> np.ndarray:
    """Assign each example a fold so that every fold holds each label in proportion."""
    assignment = np.zeros(len(labels), dtype=np.int64)
    rng = np.random.default_rng(seed)
    for label in sorted(set(labels)):
        positions = np.array([i for i, lb in enumerate(labels) if lb == label])
        shuffled = positions[rng.permutation(len(positions))]
        assignment[shuffled] = np.arange(len(shuffled)) % folds
    return assignment


def _fit(
    texts: list[str], labels: list[str], classes: tuple[str, ...]
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    from opencx.text.training import build_vocabulary, tfidf_matrix

    vocabulary, idf = build_vocabulary(texts)
    index = {feature: i for i, feature in enumerate(vocabulary)}
    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    model.fit(tfidf_matrix(texts, index, idf), labels)
    if len(classes) == 2:
        # a binary model's one score column is the second class's; softmax over (0, z) = sigmoid
        weights = np.column_stack([np.zeros(len(vocabulary)), model.coef_[0]])
        bias = np.array([0.0, model.intercept_[0]])
    else:
        order = [list(model.classes_).index(label) for label in classes]
        weights, bias = model.coef_[order].T, model.intercept_[order]
    return vocabulary, idf, weights, bias


def _model(
    vocabulary: list[str],
    idf: np.ndarray,
    weights: np.ndarray,
    bias: np.ndarray,
    metadata: dict[str, Any],
) -> LearnedSentimentModel:
    return LearnedSentimentModel(
        metadata,
        vocabulary,
        {
            "idf": idf.astype(np.float32),
            "sentiment_weights": weights.astype(np.float16),
            "sentiment_bias": bias.astype(np.float32),
        },
    )


def _predict(probabilities: np.ndarray, classes: tuple[str, ...]) -> list[str]:
    """The likeliest of the classes the data has: both models choose among the same labels."""
    columns = [SENTIMENTS.index(label) for label in classes]
    return [classes[i] for i in probabilities[:, columns].argmax(axis=1)]


def _quality(truth: list[str], predicted: list[str], classes: tuple[str, ...]) -> Quality:
    report = compute_classification_report(truth, predicted, classes)
    return Quality(round(report.accuracy, 4), round(report.macro_f1, 4))


def learn_language(
    language: str,
    examples: Sequence[LabelledText],
    *,
    identifier: str,
    min_per_class: int = MIN_PER_CLASS,
    folds: int = FOLDS,
    margin: float = MARGIN,
) -> LearningReport:
    """Cross-validate a learned model against the default on one language's examples."""
    from threadpoolctl import threadpool_limits

    counts = {label: sum(e.label == label for e in examples) for label in SENTIMENTS}
    classes = tuple(label for label in SENTIMENTS if counts[label] >= min_per_class)
    default = shipped_model(language)
    if default is None:
        reason = f"no default model for {language!r} to measure against"
        return LearningReport(language, counts, classes, None, None, False, reason, None)
    if len(classes) < 2:
        reason = f"fewer than {min_per_class} examples of at least two sentiments"
        return LearningReport(language, counts, classes, None, None, False, reason, None)
    used = [e for e in examples if e.label in classes]
    texts, truth = [e.text for e in used], [e.label for e in used]
    fold_of = stratified_folds(truth, folds)
    learned_predicted = [""] * len(used)
    # the default does not train, so its held-out predictions are its predictions on all folds
    default_probabilities = default.score(texts).sentiment
    # one BLAS thread: the solver's result then does not depend on the machine's core count
    with threadpool_limits(limits=1):
        for fold in range(folds):
            train = [i for i in range(len(used)) if fold_of[i] != fold]
            held_out = [i for i in range(len(used)) if fold_of[i] == fold]
            fitted = _model(
                *_fit([texts[i] for i in train], [truth[i] for i in train], classes),
                {"identifier": identifier, "language": language, "labels": classes},
            )
            blended = fitted.blend(default_probabilities[held_out], [texts[i] for i in held_out])
            for i, label in zip(held_out, _predict(blended, classes), strict=True):
                learned_predicted[i] = label
        default_predicted = _predict(default_probabilities, classes)
        learned_quality = _quality(truth, learned_predicted, classes)
        default_quality = _quality(truth, default_predicted, classes)
        chosen = learned_quality.macro_f1 >= default_quality.macro_f1 + margin
        reason = (
            f"learned macro-F1 {learned_quality.macro_f1:.3f} vs default "
            f"{default_quality.macro_f1:.3f} (needs +{margin})"
        )
        metadata: dict[str, Any] = {
            "identifier": identifier,
            "language": language,
            "labels": list(classes),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": counts,
            "default_model": default.identifier,
            "cross_validation": {
                "folds": folds,
                "seed": SEED,
                "default": vars(default_quality),
                "learned": vars(learned_quality),
            },
            "margin": margin,
            "chosen": chosen,
            "c": C,
            "learned_weight": LEARNED_WEIGHT,
        }
        model = _model(*_fit(texts, truth, classes), metadata)
    return LearningReport(
        language, counts, classes, default_quality, learned_quality, chosen, reason, model
    )


def learn_sentiment(
    examples: Sequence[LabelledText],
    *,
    identifier_prefix: str,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    min_per_class: int = MIN_PER_CLASS,
    folds: int = FOLDS,
    margin: float = MARGIN,
) -> dict[str, LearningReport]:
    """Learn per language (detected where not given); the model id is `<prefix>-<language>`."""
    by_language: dict[str, list[LabelledText]] = defaultdict(list)
    for example in examples:
        if example.label not in SENTIMENTS:
            raise ValueError(f"label must be one of {', '.join(SENTIMENTS)}: {example.label!r}")
        language = _language_of(example, languages)
        if language != UNKNOWN:
            by_language[language].append(example)
    return {
        language: learn_language(
            language,
            found,
            identifier=f"{identifier_prefix}-{language}",
            min_per_class=min_per_class,
            folds=folds,
            margin=margin,
        )
        for language, found in sorted(by_language.items())
    }


def learned_model_files(model: LearnedSentimentModel) -> dict[str, bytes]:
    """The model as its three files' bytes (metadata.json carries the others' SHA-256)."""
    vocabulary = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    vocabulary_bytes = json.dumps(vocabulary, ensure_ascii=False, separators=(",", ":")).encode()
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        idf=model.idf,
        sentiment_weights=model.weights.astype(np.float16),
        sentiment_bias=model.bias,
    )
    weights_bytes = buffer.getvalue()
    metadata = dict(model.metadata)
    metadata["sha256"] = {
        "vocabulary.json": hashlib.sha256(vocabulary_bytes).hexdigest(),
        "weights.npz": hashlib.sha256(weights_bytes).hexdigest(),
    }
    return {
        "metadata.json": json.dumps(metadata, ensure_ascii=False, indent=1).encode(),
        "vocabulary.json": vocabulary_bytes,
        "weights.npz": weights_bytes,
    }


def learned_model_from_files(files: dict[str, bytes], source: str) -> LearnedSentimentModel:
    """Load a learned model from its files' bytes; ModelError naming `source` if broken."""
    missing = [name for name in FILES if name not in files]
    if missing:
        raise ModelError(f"learned model {source} lacks {', '.join(missing)}")
    try:
        metadata = json.loads(files["metadata.json"])
        for name in ("vocabulary.json", "weights.npz"):
            if hashlib.sha256(files[name]).hexdigest() != metadata["sha256"][name]:
                raise ModelError(f"{source}/{name} does not match its SHA-256 in metadata.json")
        vocabulary = json.loads(files["vocabulary.json"])
        with np.load(io.BytesIO(files["weights.npz"]), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ARRAYS}
        labels = tuple(metadata["labels"])
    except ModelError:
        raise
    except (ValueError, KeyError, TypeError, OSError) as error:
        raise ModelError(f"learned model {source} is corrupt: {error}") from error
    if not set(labels) <= set(SENTIMENTS) or len(labels) < 2:
        raise ModelError(f"learned model {source} has bad labels {labels}")
    size = len(vocabulary)
    if (
        arrays["idf"].shape != (size,)
        or arrays["sentiment_weights"].shape != (size, len(labels))
        or arrays["sentiment_bias"].shape != (len(labels),)
    ):
        raise ModelError(f"learned model {source}: array shapes do not fit its vocabulary")
    return LearnedSentimentModel(metadata, vocabulary, arrays)


def save_learned_model(model: LearnedSentimentModel, folder: Path) -> None:
    """Write the model's three files into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in learned_model_files(model).items():
        (folder / name).write_bytes(content)


def load_learned_model(folder: Path) -> LearnedSentimentModel:
    """Load a learned model folder; ModelError if a file is missing or corrupt."""
    files = {name: (folder / name).read_bytes() for name in FILES if (folder / name).is_file()}
    return learned_model_from_files(files, str(folder))
