"""Offline multilingual text analytics: language, sentiment and Plutchik's eight emotions.

A pure library: it imports nothing from the rest of opencx.
"""

from opencx.text.analysis import TextAnalysis, analyze
from opencx.text.language import DEFAULT_LANGUAGES, UNKNOWN, DetectedLanguage, detect_language
from opencx.text.model import EMOTIONS, SENTIMENTS, ModelError, load_model

__all__ = [
    "DEFAULT_LANGUAGES",
    "EMOTIONS",
    "SENTIMENTS",
    "UNKNOWN",
    "DetectedLanguage",
    "ModelError",
    "TextAnalysis",
    "analyze",
    "detect_language",
    "load_model",
]
