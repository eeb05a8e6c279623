"""Quality measures for labelled texts: accuracy, macro-F1, micro-F1 and confusion matrices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from opencx.text.onnx_backend import OnnxModel


@dataclass(frozen=True)
class ClassificationReport:
    """Accuracy, macro-F1 and the confusion matrix (rows: true label, columns: predicted)."""

    labels: tuple[str, ...]
    count: int
    accuracy: float
    macro_f1: float
    confusion: tuple[tuple[int, ...], ...]

    def format(self) -> str:
        """Render the report as plain text for a terminal."""
        width = max(10, *(len(label) + 2 for label in self.labels))
        lines = [
            f"texts {self.count}  accuracy {self.accuracy:.3f}  macro-F1 {self.macro_f1:.3f}",
            "true \\ predicted".ljust(width + 8) + "".join(lb.rjust(width) for lb in self.labels),
        ]
        for label, row in zip(self.labels, self.confusion, strict=True):
            lines.append(label.ljust(width + 8) + "".join(str(n).rjust(width) for n in row))
        return "\n".join(lines)


def compute_classification_report(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> ClassificationReport:
    """Compare predicted labels with true ones; macro-F1 averages over the labels that occur."""
    names = tuple(labels) if labels else tuple(sorted(set(truth) | set(predicted)))
    index = {label: i for i, label in enumerate(names)}
    confusion = np.zeros((len(names), len(names)), dtype=np.int64)
    for true_label, predicted_label in zip(truth, predicted, strict=True):
        confusion[index[true_label], index[predicted_label]] += 1
    correct = np.diag(confusion)
    present = (confusion.sum(axis=1) + confusion.sum(axis=0)) > 0
    f1 = 2 * correct / np.maximum(confusion.sum(axis=1) + confusion.sum(axis=0), 1)
    total = int(confusion.sum())
    return ClassificationReport(
        labels=names,
        count=total,
        accuracy=float(correct.sum() / total) if total else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        confusion=tuple(tuple(int(n) for n in row) for row in confusion),
    )


def compute_micro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Micro-averaged F1 of multilabel predictions (boolean arrays of the same shape)."""
    true_positives = float(np.logical_and(truth, predicted).sum())
    denominator = float(truth.sum() + predicted.sum())
    return 2 * true_positives / denominator if denominator else 0.0


@dataclass(frozen=True)
class LabelledText:
    """A text with its true sentiment label and, when known, its language."""

    text: str
    label: str
    language: str | None = None


def evaluate_sentiment(
    examples: Sequence[LabelledText],
    labels: Sequence[str] = ("negative", "neutral", "positive"),
    *,
    custom_model: OnnxModel | None = None,
) -> dict[str, ClassificationReport]:
    """Analyze labelled texts and report sentiment quality per language and over all ("all")."""
    from opencx.text.analysis import analyze

    unknown = sorted({e.label for e in examples} - set(labels))
    if unknown:
        raise ValueError(f"labels must be one of {', '.join(labels)}; found {', '.join(unknown)}")
    by_language: dict[str | None, list[int]] = {}
    for position, example in enumerate(examples):
        by_language.setdefault(example.language or None, []).append(position)
    predicted: list[tuple[str, str, str]] = [("", "", "")] * len(examples)
    for language, positions in by_language.items():
        results = analyze(
            [examples[p].text for p in positions], lang=language, custom_model=custom_model
        )
        for position, result in zip(positions, results, strict=True):
            predicted[position] = (result.language, examples[position].label, result.sentiment)
    reports = {
        language: compute_classification_report(
            [t for lang, t, _ in predicted if lang == language],
            [p for lang, _, p in predicted if lang == language],
            labels,
        )
        for language in sorted({lang for lang, _, _ in predicted})
    }
    reports["all"] = compute_classification_report(
        [t for _, t, _ in predicted], [p for _, _, p in predicted], labels
    )
    return reports
