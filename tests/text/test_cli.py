"""`opencx text analyze` and `opencx text evaluate`, run through the real command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from opencx.cli import app

runner = CliRunner()


def test_analyze_prints_language_sentiment_and_emotions() -> None:
    # when a Dutch complaint is analysed on the command line
    result = runner.invoke(app, ["text", "analyze", "De bestelling kwam te laat en was kapot."])
    # then the language, the sentiment and all eight emotions are printed
    assert result.exit_code == 0, result.output
    assert "language nl" in result.output
    assert "sentiment negative" in result.output
    for emotion in ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise"):
        assert emotion in result.output
    assert "trust" in result.output


def test_evaluate_prints_accuracy_f1_and_confusion_per_language(tmp_path: Path) -> None:
    # given a labelled CSV with and without a language column value
    csv_file = tmp_path / "labelled.csv"
    csv_file.write_text(
        "text,label,lang\n"
        '"Paczka przyszła zepsuta, nie polecam.",negative,pl\n'
        '"Szybka dostawa i miła obsługa, polecam!",positive,pl\n'
        '"The parcel never arrived and nobody answers my emails.",negative,\n'
        '"Great service, thank you!",positive,en\n'
        '"Dank je wel voor de snelle hulp, echt top!",neutral,nl\n',
        encoding="utf-8",
    )
    # when it is evaluated
    result = runner.invoke(app, ["text", "evaluate", str(csv_file)])
    # then each language and the total get accuracy, macro-F1 and a confusion matrix
    assert result.exit_code == 0, result.output
    for section in ("== en", "== nl", "== pl", "== all"):
        assert section in result.output
    assert "texts 5  accuracy 0.800" in result.output
    assert "texts 2  accuracy 1.000  macro-F1 1.000" in result.output
    assert "true \\ predicted" in result.output
    nl_section = result.output.split("== nl")[1].split("==")[0]
    assert "neutral" in nl_section and "accuracy 0.000" in nl_section


def test_evaluate_refuses_unknown_labels(tmp_path: Path) -> None:
    # given a CSV with a label outside negative/neutral/positive
    csv_file = tmp_path / "labelled.csv"
    csv_file.write_text("text,label\nGreat!,awesome\n", encoding="utf-8")
    # when it is evaluated, then it fails naming the bad label
    result = runner.invoke(app, ["text", "evaluate", str(csv_file)])
    assert result.exit_code == 1
    assert "awesome" in result.output


def test_evaluate_refuses_a_csv_without_a_label_column(tmp_path: Path) -> None:
    csv_file = tmp_path / "unlabelled.csv"
    csv_file.write_text("text\nGreat!\n", encoding="utf-8")
    result = runner.invoke(app, ["text", "evaluate", str(csv_file)])
    assert result.exit_code == 1
    assert "label" in result.output


def test_evaluate_measures_a_local_onnx_model(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from tests.text.test_onnx_backend import write_model_folder

    # given an organization's own ONNX sentiment model and a labelled CSV
    folder = write_model_folder(tmp_path / "own", ["negative", "neutral", "positive"])
    csv_file = tmp_path / "labelled.csv"
    csv_file.write_text(
        "text,label,lang\nawful awful,negative,en\nlovely,positive,en\nlovely,negative,en\n",
        encoding="utf-8",
    )
    # when the CSV is evaluated with that model
    result = runner.invoke(app, ["text", "evaluate", str(csv_file), "--onnx-model", str(folder)])
    # then the figures are that model's
    assert result.exit_code == 0, result.output
    assert "texts 3  accuracy 0.667" in result.output


def test_analyze_refuses_a_model_that_is_not_a_local_folder() -> None:
    result = runner.invoke(
        app, ["text", "analyze", "Great!", "--onnx-model", "https://example.com/model"]
    )
    assert result.exit_code == 1
    assert "not an existing local folder" in result.output
