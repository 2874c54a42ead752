"""The Ollama Modelfile points at the full-precision base the adapter was trained on, or
says that --merge is needed."""

from pathlib import Path

import pytest

from finetune.modeling import ModelSource
from finetune.ollama import gguf_file_type, ollama_base, write_modelfile


def _gguf(path: Path, file_type: int) -> Path:
    gguf = pytest.importorskip("gguf", reason="pip install dataprep[finetune]")
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_file_type(file_type)
    writer.add_tensor("w", np.zeros((2, 2), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _checkpoint(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}", encoding="utf-8")
    (path / "model.safetensors").write_bytes(b"")
    return path


def test_a_quantized_gguf_is_replaced_by_its_dequantized_copy(tmp_path):
    quantized = _gguf(tmp_path / "m.Q4_1.gguf", 3)
    cache = _checkpoint(tmp_path / "cache" / "m")
    assert gguf_file_type(quantized) == 3
    base = ollama_base(ModelSource(str(quantized), str(cache), gguf=quantized))
    assert base.path == str(cache)
    assert "the quantized file itself does not fit the adapter" in base.note


@pytest.mark.parametrize(("file_type", "name"), [(0, "F32"), (1, "F16"), (32, "BF16")])
def test_a_full_precision_gguf_is_the_base_itself(tmp_path, file_type, name):
    path = _gguf(tmp_path / "m.gguf", file_type)
    base = ollama_base(ModelSource(str(path), str(tmp_path / "cache"), gguf=path))
    assert (base.path, base.note) == (str(path), f"m.gguf ({name})")


def test_a_model_directory_is_the_base_and_a_missing_hub_id_needs_merge(tmp_path):
    local = _checkpoint(tmp_path / "model")
    assert ollama_base(ModelSource(str(local), str(local))).path == str(local.resolve())
    hub = ollama_base(ModelSource("acme/tiny-llm", "acme/tiny-llm"))
    assert hub.path is None and hub.note.startswith("acme/tiny-llm is not on this disk")
    no_weights = tmp_path / "bin-only"
    no_weights.mkdir()
    assert "has no safetensors weights" in ollama_base(ModelSource("x", str(no_weights))).note


def test_the_modelfile_says_when_merge_is_needed(tmp_path):
    source = ModelSource("acme/tiny-llm", "acme/tiny-llm")
    base = write_modelfile(tmp_path, source, "</s>", merged=False)
    text = (tmp_path / "Modelfile").read_text(encoding="utf-8")
    assert base.path is None
    assert "# --merge is needed: acme/tiny-llm is not on this disk" in text
    assert "FROM ./merged\n" in text and "ADAPTER" not in text
    local = _checkpoint(tmp_path / "model")
    write_modelfile(tmp_path, ModelSource(str(local), str(local)), "</s>", merged=False)
    text = (tmp_path / "Modelfile").read_text(encoding="utf-8")
    assert f"FROM {local.resolve()}\nADAPTER ./\n" in text
    assert 'PARAMETER stop "</s>"\n' in text
