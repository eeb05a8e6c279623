"""Model files: loaded from the package without a network, refused when missing or corrupt."""

from __future__ import annotations

import ast
import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

import opencx.text
from opencx.text import ModelError, analyze, load_model
from opencx.text.model import MODELS_DIR, shipped_languages, shipped_model

TEXT_PACKAGE = Path(opencx.text.__file__).parent


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "nl"
    shutil.copytree(MODELS_DIR / "nl", folder)
    return folder


def test_default_models_ship_inside_the_package() -> None:
    # given the installed package
    # then nl, pl and en models lie in its own folder, in safe formats only
    assert {"nl", "pl", "en"} <= set(shipped_languages())
    for language in ("nl", "pl", "en"):
        folder = MODELS_DIR / language
        assert folder.is_relative_to(TEXT_PACKAGE)
        names = {path.name for path in folder.iterdir()}
        assert names == {"metadata.json", "vocabulary.json", "weights.npz", "MODEL_CARD.md"}


def test_models_load_and_score_without_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # given that every network connection fails
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the text library tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    shipped_model.cache_clear()
    # when texts in each language are analysed from cold
    results = analyze(
        ["Te laat geleverd.", "Szybka dostawa, polecam.", "The parcel arrived broken and late."]
    )
    # then every text is analysed
    assert [r.language for r in results] == ["nl", "pl", "en"]


def test_a_folder_missing_a_file_is_refused_by_name(model_copy: Path) -> None:
    # given a model folder without its vocabulary
    (model_copy / "vocabulary.json").unlink()
    # when it is loaded, then the error names the missing file
    with pytest.raises(ModelError, match=r"lacks vocabulary\.json"):
        load_model(model_copy)


def test_changed_weights_are_refused(model_copy: Path) -> None:
    # given weights that are not the ones the metadata vouches for
    with np.load(model_copy / "weights.npz") as npz:
        arrays = dict(npz)
    arrays["sentiment_bias"] = arrays["sentiment_bias"] + 1
    np.savez(model_copy / "weights.npz", **arrays)
    # when the folder is loaded, then the checksum mismatch is reported
    with pytest.raises(ModelError, match=r"weights\.npz does not match its SHA-256"):
        load_model(model_copy)


def test_garbage_metadata_is_refused(model_copy: Path) -> None:
    # given metadata that is not JSON
    (model_copy / "metadata.json").write_text("{not json", encoding="utf-8")
    # when the folder is loaded, then it is reported as corrupt
    with pytest.raises(ModelError, match="is corrupt"):
        load_model(model_copy)


def test_arrays_that_do_not_fit_the_vocabulary_are_refused(model_copy: Path) -> None:
    # given a vocabulary one entry short, with a matching checksum
    vocabulary = json.loads((model_copy / "vocabulary.json").read_text(encoding="utf-8"))
    (model_copy / "vocabulary.json").write_text(json.dumps(vocabulary[:-1]), encoding="utf-8")
    metadata = json.loads((model_copy / "metadata.json").read_text(encoding="utf-8"))
    metadata["sha256"]["vocabulary.json"] = opencx.text.model.file_digest(
        model_copy / "vocabulary.json"
    )
    (model_copy / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    # when it is loaded, then the shape mismatch is reported
    with pytest.raises(ModelError, match="do not match the vocabulary"):
        load_model(model_copy)


def test_the_library_imports_nothing_else_from_opencx() -> None:
    # given every module of opencx.text
    outside = []
    for path in TEXT_PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                continue
            outside += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] == "opencx" and not name.startswith("opencx.text")
            ]
    # then none imports another part of opencx
    assert outside == []
