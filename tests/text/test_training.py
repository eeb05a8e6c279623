"""`opencx text train`: builds a loadable model folder and its model card from XED-shaped data."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opencx.cli import app
from opencx.text import load_model
from opencx.text.training import Example, read_xed, sentiment_label

runner = CliRunner()
# (sentence, XED emotion numbers): anger 1, anticipation 2, disgust 3, fear 4, joy 5, sadness 6,
# surprise 7, trust 8
LINES = [
    ("I hate you, get out of my house", "1, 3"),
    ("This is disgusting and I am furious", "1, 3"),
    ("I am so scared of the dark", "4"),
    ("My dog died and I cried all night", "6"),
    ("What a wonderful day, I love you", "5, 8"),
    ("We won, this is the best day ever", "5"),
    ("I trust you with my life, my friend", "8"),
    ("Tomorrow we leave for the big trip", "2"),
    ("Wait, what? You are here?", "7"),
]


def write_xed(folder: Path) -> Path:
    annotated = folder / "AnnotatedData"
    annotated.mkdir(parents=True)
    lines = [f"{text} number {i}\t{labels}" for i in range(40) for text, labels in LINES]
    lines.append("a broken line without labels")
    (annotated / "en-annotated.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    neutral = [f"9\tThe train leaves at {i} past nine" for i in range(60)]
    (annotated / "neu_en.txt").write_text("\n".join(neutral) + "\n", encoding="utf-8")
    return folder


def test_sentiment_labels_follow_the_documented_rule() -> None:
    def label(numbers: set[int], neutral: bool = False) -> str | None:
        return sentiment_label(Example("text", frozenset(numbers), neutral))

    assert label({5}) == label({8}) == label({5, 2}) == "positive"
    assert label({1}) == label({3, 7}) == label({4}) == label({6}) == "negative"
    assert label({2}) == label({7}) == label({2, 7}) == label(set(), neutral=True) == "neutral"
    assert label({5, 6}) is None


def test_xed_lines_are_read_with_duplicates_merged_and_bad_lines_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "xed"
    (folder / "Projections").mkdir(parents=True)
    (folder / "Projections" / "nl-projections.tsv").write_text(
        'Help!\t4\nHelp!\t7\nGeen label hier\n"Kapot\tx, 3\n', encoding="utf-8"
    )
    assert read_xed(folder, "nl") == [Example("Help!", frozenset({4, 7}), False)]


def test_train_writes_a_model_that_loads_scores_and_cites_xed(tmp_path: Path) -> None:
    # given XED-shaped English data
    data = write_xed(tmp_path / "xed")
    # when the English model is trained into a folder
    result = runner.invoke(
        app,
        ["text", "train", "--data", str(data), "--language", "en", "--output", str(tmp_path)],
    )
    # then it reports its held-out figures, and the folder loads as a model
    assert result.exit_code == 0, result.output
    assert "en: xed_only acc" in result.output
    assert "emotion micro-F1" in result.output
    model = load_model(tmp_path / "en")
    scores = model.score(["I am so scared of the dark", "What a wonderful day, I love you"])
    assert scores.sentiment[0].argmax() == 0 and scores.sentiment[1].argmax() == 2
    metadata = json.loads((tmp_path / "en" / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["data"]["split"] == {"train": 294, "validation": 42, "test": 84}
    card = (tmp_path / "en" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in card and "Öhman, E., Pàmies, M., Kajava, K. and Tiedemann, J." in card
    assert "| xed only | " in card


def test_train_refuses_a_folder_that_is_not_xed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["text", "train", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "not an XED data folder" in result.output
