"""The one interface of opencx.text: analyze a batch of texts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opencx.text.language import DEFAULT_LANGUAGES, UNKNOWN, DetectedLanguage, detect_language
from opencx.text.model import EMOTIONS, SENTIMENTS, shipped_model
from opencx.text.onnx_backend import OnnxModel

if TYPE_CHECKING:
    from opencx.text.learning import LearnedSentimentModel

# a text whose language is unknown or has no model is scored by this one and says so in `model`
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class TextAnalysis:
    """Language, sentiment (label and score in [-1, 1]) and Plutchik's eight emotions of a text."""

    language: str
    language_confidence: float
    sentiment: str
    sentiment_score: float
    emotions: dict[str, float]
    model: str


def analyze(
    texts: list[str],
    lang: str | None = None,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    *,
    custom_model: OnnxModel | None = None,
    custom_sentiment: Mapping[str, LearnedSentimentModel] | None = None,
) -> list[TextAnalysis]:
    """Analyze a batch of texts; `lang` skips detection, else it is detected among `languages`.

    `custom_sentiment` maps a language to a model learned from an organization's rated texts
    (see learning): its sentiment is blended with the default's; emotions stay the default's.
    A `custom_model` (see onnx_backend) replaces the sentiment and/or emotions it gives.
    """
    detected = [
        DetectedLanguage(lang, 1.0) if lang else detect_language(text, languages) for text in texts
    ]
    by_model: dict[str, list[int]] = defaultdict(list)
    for position, detection in enumerate(detected):
        language = detection.language
        has_model = language != UNKNOWN and shipped_model(language) is not None
        by_model[language if has_model else FALLBACK_LANGUAGE].append(position)
    results: list[TextAnalysis | None] = [None] * len(texts)
    for model_language, positions in by_model.items():
        model = shipped_model(model_language)
        if model is None:
            raise LookupError(f"no model for language {model_language!r}")
        batch = [texts[p] for p in positions]
        scores = model.score(batch)
        sentiments, emotions, identifier = scores.sentiment, scores.emotions, model.identifier
        learned = (custom_sentiment or {}).get(model_language)
        if learned is not None:
            sentiments = learned.blend(sentiments, batch)
            identifier = f"{learned.identifier}+{identifier}"
        if custom_model is not None:
            onnx_sentiment, onnx_emotions = custom_model.score(batch)
            sentiments = sentiments if onnx_sentiment is None else onnx_sentiment
            emotions = emotions if onnx_emotions is None else onnx_emotions
            both = onnx_sentiment is not None and onnx_emotions is not None
            identifier = custom_model.identifier + ("" if both else f"+{identifier}")
        for row, position in enumerate(positions):
            probabilities = sentiments[row]
            results[position] = TextAnalysis(
                language=detected[position].language,
                language_confidence=round(detected[position].confidence, 4),
                sentiment=SENTIMENTS[int(probabilities.argmax())],
                sentiment_score=round(float(probabilities[2] - probabilities[0]), 4),
                emotions={
                    name: round(float(p), 4)
                    for name, p in zip(EMOTIONS, emotions[row], strict=True)
                },
                model=identifier,
            )
    return [result for result in results if result is not None]
