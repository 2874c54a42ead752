"""Training steps on a tiny random Llama built here: LoRA and QLoRA on the CPU, resume, eval."""

import json

import pytest

torch = pytest.importorskip("torch", reason="pip install dataprep[finetune]")
from finetune_tiny import ROWS, build_model_dir, write_dataset  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from dataprep.cli import app  # noqa: E402
from dataprep.errors import ConfigError, InputError  # noqa: E402
from finetune.config import load_config  # noqa: E402
from finetune.eval_report import write_report  # noqa: E402
from finetune.evaluate import evaluate  # noqa: E402
from finetune.modeling import resolve_model  # noqa: E402
from finetune.train import build_model, train  # noqa: E402

FAST = {
    "micro_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "learning_rate": 1e-2,
    "sequence_len": 256,
    "lora_dropout": 0.0,
}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One torch thread: on a busy 2-core box two OpenMP threads spin-wait on each other
    (measured here: a SmolLM2 forward+backward took 25 s of CPU with 2 threads, 3 s with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return build_model_dir(root / "model"), write_dataset(root / "out" / "dataset")


def _losses(run_dir):
    summary = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return summary, [e["loss"] for e in summary["losses"]["train"]]


def test_lora_cli_trains_saves_reloads_and_merges(tiny, tmp_path):
    model_dir, data = tiny
    cfg = tmp_path / "lora.yaml"
    cfg.write_text(
        "adapter: lora\nload_in_4bit: false\n" + "".join(f"{k}: {v}\n" for k, v in FAST.items()),
        encoding="utf-8",
    )
    run = tmp_path / "run"
    args = ["finetune", "train", "--data", str(data), "--model", str(model_dir)]
    args += ["--output", str(run), "--config", str(cfg), "--max-steps", "12", "--merge"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"Adapter written to {run} (12 steps, cpu, float32)" in result.output
    # one progress line per logged step, no raw log dicts, tqdm bars or library warnings
    assert "step 12/12  loss " in result.output and "step 2: loss on validation " in result.output
    assert "{'loss'" not in result.output and "it/s]" not in result.output
    assert "Warning" not in result.output and "warning" not in result.output
    summary, losses = _losses(run)
    assert len(losses) == 12 and losses[-1] < losses[0] - 0.1  # the loss falls
    assert summary["config"]["max_steps"] == 12 and summary["config"]["adapter"] == "lora"
    assert summary["dataset"]["rows"] == {"train": 8, "validation": 2, "test": 2}
    assert summary["dataset"]["dropped_too_long"] == {"train": 0, "validation": 0}
    assert len(summary["dataset"]["fingerprint"]) == 16
    assert set(summary["versions"]) >= {"torch", "transformers", "trl", "peft", "bitsandbytes"}
    assert summary["steps"] == {"per_epoch": 2, "total": 12, "warmup": 1, "eval_every": 2}
    assert len(summary["losses"]["validation"]) == 6  # one per epoch
    assert summary["best_eval_loss"] == min(e["loss"] for e in summary["losses"]["validation"])
    assert (run / "adapter_model.safetensors").is_file() and (run / "tokenizer.json").is_file()
    assert (run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    modelfile = (run / "Modelfile").read_text(encoding="utf-8")
    assert "FROM ./merged\n" in modelfile and 'PARAMETER stop "</s>"\n' in modelfile
    assert "### Instruction:\n{{ .Prompt }}\n\n### Response:\n{{ .Response }}" in modelfile

    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(run)
    ids = tok("### Instruction:\nWrite", return_tensors="pt")["input_ids"]
    reloaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir), run)
    merged = AutoModelForCausalLM.from_pretrained(run / "merged")
    assert merged.dtype == torch.float32 and not hasattr(merged, "peft_config")
    with torch.no_grad():
        a, b = reloaded(ids).logits, merged(ids).logits
    assert torch.allclose(a, b, atol=1e-4)
    out = merged.generate(ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > ids.shape[1]


def test_qlora_really_quantizes_and_the_loss_falls(tiny, tmp_path):
    import bitsandbytes as bnb

    model_dir, data = tiny
    cfg = load_config(None, max_steps=10, **FAST)
    assert cfg.adapter == "qlora" and cfg.load_in_4bit
    peft_model = build_model(resolve_model(str(model_dir)), cfg, "cpu", torch.float32)
    four_bit = [m for m in peft_model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(four_bit) == 14  # 7 linear layers x 2 blocks, each NF4
    assert four_bit[0].weight.quant_type == "nf4"
    del peft_model
    result = train(data, str(model_dir), tmp_path / "run", cfg, merge=True)
    losses = [e["loss"] for e in result.summary["losses"]["train"]]
    assert losses[-1] < losses[0] - 0.1
    merged = json.loads((tmp_path / "run" / "merged" / "config.json").read_text(encoding="utf-8"))
    assert "quantization_config" not in merged  # merged into a full-precision reload, not 4 bits
    assert merged["dtype"] == "float32"
    assert result.summary["four_bit"] is True
    assert result.summary["optimizer_used"] == "adamw_torch"  # paged needs CUDA
    assert (tmp_path / "run" / "adapter_model.safetensors").is_file()
    modelfile = (tmp_path / "run" / "Modelfile").read_text(encoding="utf-8")
    assert "FROM ./merged\n" in modelfile


def test_resume_continues_from_the_last_checkpoint(tiny, tmp_path):
    model_dir, data = tiny
    base = {"adapter": "lora", "load_in_4bit": False, **FAST}
    run = tmp_path / "run"
    first = train(data, str(model_dir), run, load_config(None, max_steps=4, **base))
    assert first.summary["resumed_from"] is None
    modelfile = (run / "Modelfile").read_text(encoding="utf-8")
    assert f"FROM {model_dir.resolve()}\nADAPTER ./\n" in modelfile  # no --merge: base + adapter
    second = train(data, str(model_dir), run, load_config(None, max_steps=6, **base))
    assert second.summary["resumed_from"].endswith("checkpoint-4")
    steps = [e["step"] for e in second.summary["losses"]["train"]]
    assert steps == [1, 2, 3, 4, 5, 6]  # history carried over, not restarted
    with pytest.raises(ConfigError, match="holds checkpoints of a different run"):
        train(data, str(model_dir), run, load_config(None, max_steps=6, **{**base, "lora_r": 8}))
    third = train(
        data,
        str(model_dir),
        run,
        load_config(None, max_steps=2, **{**base, "lora_r": 8}),
        fresh=True,
    )
    assert third.summary["resumed_from"] is None


def test_ctrl_c_saves_a_checkpoint_and_the_next_run_resumes_from_it(tiny, tmp_path):
    import os
    import signal

    from transformers import TrainerCallback

    from finetune.train import TrainingInterrupted

    class CtrlCAtStep3(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, as from the terminal

    model_dir, data = tiny
    cfg = load_config(None, max_steps=8, adapter="lora", load_in_4bit=False, **FAST)
    run = tmp_path / "run"
    # what the process had (the default handler, or SIG_IGN under `nohup ... &`): restored
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 3: checkpoint saved in"):
        train(data, str(model_dir), run, cfg, callbacks=[CtrlCAtStep3()])
    assert (run / "checkpoints" / "checkpoint-3").is_dir()
    assert not (run / "run.json").exists()  # an interrupted run is not reported as done
    assert signal.getsignal(signal.SIGINT) is before
    result = train(data, str(model_dir), run, cfg)
    assert result.summary["resumed_from"].endswith("checkpoint-3")
    assert [e["step"] for e in result.summary["losses"]["train"]] == list(range(1, 9))


def test_long_rows_dropped_and_reported(tiny, tmp_path):
    model_dir, data = tiny
    base = {"adapter": "lora", "load_in_4bit": False, **FAST}
    from transformers import AutoTokenizer

    from finetune import data as fdata

    tok = AutoTokenizer.from_pretrained(model_dir)
    lengths = sorted(len(fdata.encode_row(tok, r)["input_ids"]) for r in ROWS[:8])
    cfg = load_config(None, max_steps=1, **{**base, "sequence_len": lengths[3]})
    result = train(data, str(model_dir), tmp_path / "run", cfg)
    dropped = result.summary["dataset"]["dropped_too_long"]["train"]
    assert dropped == sum(n > lengths[3] for n in lengths) and dropped > 0
    assert result.summary["dataset"]["train_rows_used"] == 8 - dropped
    bad = load_config(None, **{**base, "optimizer": "adamw_turbo"})
    with pytest.raises(
        ConfigError, match="optimizer 'adamw_turbo' is not a transformers optimizer"
    ):
        train(data, str(model_dir), tmp_path / "r3", bad)
    with pytest.raises(InputError, match="longer than sequence_len 16 tokens: raise sequence_len"):
        train(
            data, str(model_dir), tmp_path / "r2", load_config(None, **{**base, "sequence_len": 16})
        )


def test_eval_compares_base_and_tuned_and_escapes_html(tiny, tmp_path):
    model_dir, _ = tiny
    rows = [dict(r) for r in ROWS]
    rows[10]["output"] = "public List<String> getTotal() {\n    return total;\n}"
    data = write_dataset(tmp_path / "dataset", rows=rows)
    cfg = load_config(None, max_steps=4, adapter="lora", load_in_4bit=False, **FAST)
    train(data, str(model_dir), tmp_path / "run", cfg)
    args = ["finetune", "eval", "--data", str(data), "--model", str(model_dir)]
    args += ["--adapter", str(tmp_path / "run"), "--limit", "2", "--max-new-tokens", "6"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "test: 2 rows" in result.output and "code: edit sim." in result.output
    assert "test: fine-tuned " in result.output  # the verdict line
    payload = json.loads((tmp_path / "run" / "eval" / "eval.json").read_text(encoding="utf-8"))
    assert payload["rows"] == {"test": 2} and list(payload["sets"]) == ["test"]
    scores = payload["sets"]["test"]["all"]
    assert scores["code_rows"] == 2 and set(scores["models"]) == {"base", "tuned"}
    assert len(payload["answers"]) == 2 and {"base", "tuned", "expected", "set"} <= set(
        payload["answers"][0]
    )
    page = (tmp_path / "run" / "eval" / "eval.html").read_text(encoding="utf-8")
    assert "List&lt;String&gt; getTotal()" in page and "List<String>" not in page
    args[args.index("--adapter") + 1] = str(tmp_path / "nothing")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.output.endswith(
        f"Error: {tmp_path / 'nothing'} has no adapter_config.json: "
        "pass the RUN_DIR of `finetune train`\n"
    )
    report = evaluate(data, str(model_dir), limit=1, max_new_tokens=4)
    assert set(report.answers) == {"base"}
    paths = write_report(report, tmp_path / "e")
    assert paths["html"].is_file()


def test_the_knowledge_split_is_a_second_held_out_loss_and_an_eval_set(tiny, tmp_path):
    model_dir, _ = tiny
    data = write_dataset(tmp_path / "dataset", knowledge=True)
    cfg = load_config(None, max_steps=4, adapter="lora", load_in_4bit=False, **FAST)
    result = train(data, str(model_dir), tmp_path / "run", cfg)
    losses = result.summary["losses"]
    assert [e["step"] for e in losses["validation"]] == [2, 4]
    assert [e["step"] for e in losses["knowledge"]] == [2, 4]
    # the best checkpoint is chosen on validation, never on knowledge (a test set)
    assert result.summary["best_eval_loss"] == min(e["loss"] for e in losses["validation"])
    assert result.summary["dataset"]["knowledge_rows_used"] == 2
    report = evaluate(data, str(model_dir), tmp_path / "run", max_new_tokens=4)
    assert report.summary["rows"] == {"knowledge": 2, "generalisation": 2}
    assert report.sets == ["knowledge"] * 2 + ["generalisation"] * 2


def test_held_out_sets_are_capped_by_val_max_rows(tiny, tmp_path):
    model_dir, data = tiny
    base = {"adapter": "lora", "load_in_4bit": False, **FAST}
    result = train(
        data,
        str(model_dir),
        tmp_path / "run",
        load_config(None, max_steps=1, val_max_rows=1, **base),
    )
    assert result.summary["dataset"]["validation_rows_used"] == 1
    assert result.summary["dataset"]["held_out_rows"] == {"validation": 2, "knowledge": 0}
    assert load_config(None).val_max_rows == 64  # capped by default


def test_a_tracker_that_is_not_installed_is_a_config_error(tiny, tmp_path):
    model_dir, data = tiny
    cfg = load_config(None, max_steps=1, adapter="lora", load_in_4bit=False, report_to="wandb")
    with pytest.raises(ConfigError, match="report_to: wandb is not installed: pip install wandb"):
        train(data, str(model_dir), tmp_path / "run", cfg)


def test_a_training_loss_that_went_up_is_flagged():
    from finetune.train import loss_went_up

    def logged(*values):
        return [{"step": i + 1, "loss": v} for i, v in enumerate(values)]

    assert loss_went_up(logged(1.98, 2.10, 2.40))
    assert not loss_went_up(logged(3.5, 2.0, 1.7))
    assert not loss_went_up(logged(2.0))
    # the mean of the last quarter against the first: one noisy step does not flag a run
    assert not loss_went_up(logged(3.0, 2.9, 2.5, 2.2, 2.0, 1.9, 1.8, 2.6))


def test_progress_lines_for_logs_that_are_not_a_terminal():
    from finetune.progress import format_eta, progress_line

    assert format_eta(83.4) == "0:01:23" and format_eta(None) == "-"
    assert progress_line(10, 30, 1.23456, 2e-4, 83) == (
        "step 10/30  loss 1.2346  lr 2.00e-04  eta 0:01:23"
    )
