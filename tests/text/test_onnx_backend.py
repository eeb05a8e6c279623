"""Bring-your-own ONNX model: a local folder only, used by analyze() in place of the default."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from opencx.text import ModelError, analyze
from opencx.text.onnx_backend import load_onnx_model

onnx = pytest.importorskip("onnx")
tokenizers = pytest.importorskip("tokenizers")
pytest.importorskip("onnxruntime")

VOCABULARY = {"[PAD]": 0, "[UNK]": 1, "awful": 2, "lovely": 3}


def write_model_folder(folder: Path, labels: list[str]) -> Path:
    """A tiny bag-of-words 'transformer': logits are the sum of per-token rows of a table."""
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir()
    table = np.zeros((len(VOCABULARY), len(labels)), dtype=np.float32)
    table[VOCABULARY["awful"], labels.index("negative")] = 5.0
    table[VOCABULARY["lovely"], labels.index("positive")] = 5.0
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["embedded"]),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "last"], ["mask3"]),
        helper.make_node("Mul", ["embedded", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "tokens"], ["logits"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "bag_of_words",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(labels)])],
        [
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "last"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "tokens"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, folder / "model.onnx")
    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel(VOCABULARY, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer.normalizer = tokenizers.normalizers.Lowercase()
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
    return folder


def test_a_local_sentiment_model_replaces_the_default_sentiment(tmp_path: Path) -> None:
    # given an organization's own sentiment model in a local folder
    model = load_onnx_model(
        write_model_folder(tmp_path / "shop-sentiment", ["negative", "neutral", "positive"])
    )
    # when texts are analysed with it, one of them longer so that the batch is padded
    awful, lovely = analyze(
        ["Awful", "Lovely lovely lovely, what a lovely parcel"], lang="en", custom_model=model
    )
    # then its sentiment is used, and the default model still gives the emotions
    assert (awful.sentiment, lovely.sentiment) == ("negative", "positive")
    assert awful.sentiment_score < -0.9 and lovely.sentiment_score > 0.9
    assert awful.model == "onnx:shop-sentiment+opencx-xed-en-1"
    assert len(awful.emotions) == 8


@pytest.mark.parametrize(
    "where", ["https://huggingface.co/some/model", "hf://some/model", "no/such/folder"]
)
def test_only_an_existing_local_folder_is_accepted(where: str) -> None:
    with pytest.raises(ModelError, match="local folder"):
        load_onnx_model(where)


def test_a_folder_without_labels_is_refused(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "model", ["negative", "neutral", "positive"])
    (folder / "labels.json").unlink()
    with pytest.raises(ModelError, match=r"lacks labels\.json"):
        load_onnx_model(folder)


def test_labels_that_name_neither_task_are_refused(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "model", ["negative", "neutral", "positive"])
    (folder / "labels.json").write_text('["spam", "ham"]', encoding="utf-8")
    with pytest.raises(ModelError, match="must list the outputs"):
        load_onnx_model(folder)


def test_a_corrupt_model_file_is_refused(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "model", ["negative", "neutral", "positive"])
    (folder / "model.onnx").write_bytes(b"not an onnx model")
    with pytest.raises(ModelError, match="is corrupt"):
        load_onnx_model(folder)
