"""Train a (Q)LoRA adapter on the exported dataset with transformers, peft and TRL.

`train(...)` reads the splits, tokenizes them with the exact mask (finetune.data), loads
the base (4-bit NF4 when the config says qlora and bitsandbytes supports the device),
runs TRL's SFTTrainer on pre-tokenized `input_ids`/`labels` (so the mask is ours, not
re-derived), computes the loss on the held-out sets (validation, and knowledge when the
export has it; at most `val_max_rows` rows of each) every epoch or `eval_steps`, keeps the
checkpoint best on validation, resumes from the last checkpoint of an interrupted run,
shows one progress bar (finetune.progress) and writes RUN_DIR:

    adapter_model.safetensors, adapter_config.json   the best PEFT adapter
    tokenizer files                                  the base tokenizer
    run.json                                         config, versions, data, losses
    loss.png                                         the loss curve
    Modelfile                                        Ollama: the full-precision base the adapter
                                                     was trained on, Alpaca TEMPLATE, EOS stop
    merged/                                          with merge=True: base + adapter, 16/32 bits
    checkpoints/                                     trainer checkpoints (resume, best)
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from dataprep.console import console, warn
from dataprep.errors import ConfigError, DataprepError, InputError
from dataprep.hashing import content_hash
from finetune import data as fdata
from finetune.config import TRACKERS, FinetuneConfig
from finetune.modeling import (
    ModelSource,
    four_bit_supported,
    load_model,
    load_tokenizer,
    lora_config,
    pick_device,
    pick_dtype,
    resolve_model,
)
from finetune.ollama import write_modelfile
from finetune.progress import progress_callback, quiet_libraries

RUN_FILE = "run.json"
CHECKPOINTS = "checkpoints"
STATE_KEY_FILE = "run-key.json"


class TrainingInterrupted(DataprepError):
    """Training stopped on Ctrl-C after saving a checkpoint to resume from."""


class _StopOnInterrupt:
    """Turn the first Ctrl-C into 'save a checkpoint after this step, then stop'."""

    def __init__(self):
        from transformers import TrainerCallback

        self.requested = False
        outer = self

        class _Callback(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                if outer.requested:
                    control.should_save = True
                    control.should_training_stop = True
                return control

        self.callback = _Callback()

    @contextlib.contextmanager
    def catching_sigint(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            self.requested = True
            signal.signal(signal.SIGINT, previous)  # a second Ctrl-C aborts at once
            console.print("stopping after this step (Ctrl-C again to abort now)", highlight=False)

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


@dataclass
class TrainResult:
    """What a run produced (also written to RUN_DIR/run.json)."""

    run_dir: Path
    summary: dict


def library_versions() -> dict[str, str]:
    """Versions of the libraries a run depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("dataprep", "torch", "transformers", "trl", "peft", "bitsandbytes", "accelerate"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def plan_steps(n_train: int, cfg: FinetuneConfig) -> tuple[int, int, int]:
    """(steps per epoch, total optimizer steps, steps between evaluations/checkpoints).

    Example: 100 rows, micro batch 2, accumulation 4, 3 epochs -> (13, 39, 13)
    """
    per_epoch = max(
        1, math.ceil(n_train / (cfg.micro_batch_size * cfg.gradient_accumulation_steps))
    )
    total = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.num_epochs))
    return per_epoch, total, cfg.eval_steps or max(1, min(per_epoch, total, 500))


def _optimizer(cfg: FinetuneConfig, device: str) -> str:
    """The transformers optimizer to use; a name it does not know is a ConfigError."""
    from transformers.training_args import OptimizerNames

    if cfg.optimizer not in {o.value for o in OptimizerNames}:
        raise ConfigError(
            f"optimizer {cfg.optimizer!r} is not a transformers optimizer: use adamw_torch, "
            "paged_adamw_32bit, paged_adamw_8bit or adamw_8bit"
        )
    if cfg.optimizer.startswith("paged_") and device != "cuda":
        return "adamw_torch"  # paged optimizers page GPU memory; on the CPU plain AdamW is the same
    return cfg.optimizer


def _run_key(cfg: FinetuneConfig, source: ModelSource, fingerprint: str) -> str:
    """What a checkpoint must match to be resumed (step budgets may change between attempts)."""
    settings = cfg.model_dump(
        exclude={"max_steps", "num_epochs", "base_model", "eval_max_new_tokens", "report_to"}
    )
    return content_hash("finetune-run", settings, source.given, fingerprint)


def _last_checkpoint(checkpoints: Path, key: str, fresh: bool) -> str | None:
    if fresh:
        shutil.rmtree(checkpoints, ignore_errors=True)
    key_file = checkpoints / STATE_KEY_FILE
    found = sorted(checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    if found and key_file.is_file() and json.loads(key_file.read_text())["key"] != key:
        raise ConfigError(
            f"{checkpoints} holds checkpoints of a different run (config, model or data changed): "
            "pass --fresh to start over or a new --output"
        )
    checkpoints.mkdir(parents=True, exist_ok=True)
    key_file.write_text(json.dumps({"key": key}), encoding="utf-8")
    return str(found[-1]) if found else None


def _to_dataset(rows: list[dict], by_length: bool = False):
    """A datasets.Dataset of `input_ids`/`labels`; `by_length` orders the rows by length (held-out
    sets: batches of similar lengths waste less on padding)."""
    from datasets import Dataset

    if by_length:
        rows = sorted(rows, key=lambda r: len(r["input_ids"]))
    return Dataset.from_dict(
        {"input_ids": [r["input_ids"] for r in rows], "labels": [r["labels"] for r in rows]}
    )


HELD_OUT = ("validation", "knowledge")


def _held_out_rows(splits: dict[str, list[dict]], cfg: FinetuneConfig):
    """Train rows and the held-out rows the losses are computed on (each capped by
    `val_max_rows`, a seeded sample), with each held-out set's full size."""
    train_rows = splits["train"]
    held = {name: splits.get(name) or [] for name in HELD_OUT}
    if not held["validation"] and cfg.val_set_size > 0:
        shuffled = train_rows[:]
        random.Random(cfg.seed).shuffle(shuffled)
        cut = max(1, int(len(shuffled) * cfg.val_set_size))
        held["validation"], train_rows = shuffled[:cut], shuffled[cut:]
    sizes = {name: len(rows) for name, rows in held.items()}
    for name, rows in held.items():
        if cfg.val_max_rows and len(rows) > cfg.val_max_rows:
            held[name] = random.Random(cfg.seed).sample(rows, cfg.val_max_rows)
    return train_rows, held, sizes


def _prepare(splits: dict[str, list[dict]], tokenizer, cfg: FinetuneConfig):
    """Encoded train rows, encoded held-out sets (validation, knowledge), their full sizes
    and the per-split drop counts."""
    train_rows, held_rows, sizes = _held_out_rows(splits, cfg)
    train = fdata.encode_rows(tokenizer, train_rows, cfg.sequence_len, cfg.train_on_inputs)
    held = {
        name: fdata.encode_rows(tokenizer, rows, cfg.sequence_len, cfg.train_on_inputs)
        for name, rows in held_rows.items()
    }
    if not train.rows:
        raise InputError(
            f"all {len(train_rows)} train rows are longer than sequence_len {cfg.sequence_len} "
            "tokens: raise sequence_len in the config"
        )
    dropped = {"train": train.dropped_too_long}
    dropped |= {name: enc.dropped_too_long for name, enc in held.items() if held_rows[name]}
    for split, count in dropped.items():
        if count:
            warn(f"dropped {count} {split} rows longer than sequence_len {cfg.sequence_len} tokens")
    return train, {name: enc for name, enc in held.items() if enc.rows}, sizes, dropped


def _check_trackers(cfg: FinetuneConfig) -> list[str]:
    """The trackers to report to; one that is not installed is a ConfigError naming it."""
    import transformers.integrations as integrations

    wanted = [t for t in cfg.report_to if t != "none"]
    for tracker in wanted:
        if tracker in TRACKERS and not getattr(integrations, f"is_{tracker}_available")():
            raise ConfigError(
                f"report_to: {tracker} is not installed: pip install {tracker}, "
                "or set report_to: none"
            )
    return wanted or ["none"]


def _sft_config(cfg, run_dir, device, dtype, total, every, warmup, held):
    """The SFTConfig of a run; `held` names the held-out sets the loss is computed on (the
    best checkpoint is chosen on validation only: knowledge is a test set)."""
    import torch
    from trl import SFTConfig

    has_val = bool(held)
    best = "validation" in held
    metric = ("validation_loss" if len(held) > 1 else "loss") if best else None

    return SFTConfig(
        output_dir=str(run_dir / CHECKPOINTS),
        max_steps=total,
        per_device_train_batch_size=cfg.micro_batch_size,
        per_device_eval_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=warmup,
        optim=_optimizer(cfg, device),
        max_grad_norm=cfg.max_grad_norm,
        weight_decay=cfg.weight_decay,
        neftune_noise_alpha=cfg.neftune_noise_alpha,
        activation_checkpointing=cfg.gradient_checkpointing,  # transformers 5 name
        seed=cfg.seed,
        data_seed=cfg.seed,
        max_length=cfg.sequence_len,
        packing=cfg.sample_packing,
        packing_strategy="bfd",
        completion_only_loss=not cfg.train_on_inputs,
        eval_strategy="steps" if has_val else "no",
        eval_steps=every if has_val else None,
        save_strategy="steps",
        save_steps=every,
        save_total_limit=2,
        load_best_model_at_end=best,
        metric_for_best_model=metric,
        greater_is_better=False if best else None,
        logging_steps=max(1, min(10, total // 20)),
        report_to=_check_trackers(cfg),
        use_cpu=device == "cpu",
        bf16=dtype == torch.bfloat16,
        fp16=dtype == torch.float16,
        dataloader_pin_memory=device == "cuda",
        prediction_loss_only=True,  # else the trainer gathers every row's logits (vocab-wide)
        # rows come tokenized, masked and length-checked (finetune.data): no second pass
        dataset_kwargs=None if cfg.sample_packing else {"skip_prepare_dataset": True},
        disable_tqdm=True,  # finetune.progress shows one bar instead
        log_level="error",
    )


def build_model(source: ModelSource, cfg: FinetuneConfig, device: str, dtype):
    """The base with a fresh LoRA adapter: 4-bit NF4 (prepared for k-bit training) or full."""
    from peft import get_peft_model, prepare_model_for_kbit_training

    model = load_model(source, device, dtype, four_bit=cfg.load_in_4bit)
    if cfg.load_in_4bit:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=cfg.gradient_checkpointing
        )
    elif cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    return get_peft_model(model, lora_config(cfg))


def train(
    data: Path | str,
    model: str,
    output: Path | str,
    cfg: FinetuneConfig,
    merge: bool = False,
    fresh: bool = False,
    callbacks: list | None = None,
) -> TrainResult:
    """Fine-tune MODEL on DATA's train split; write the adapter and run files to OUTPUT.

    Ctrl-C stops after the current step and saves a checkpoint there (a second Ctrl-C
    aborts at once); the same call again resumes from it. `callbacks` are extra
    transformers TrainerCallbacks.
    """
    with quiet_libraries():
        return _train(data, model, output, cfg, merge, fresh, callbacks)


def _train(data, model, output, cfg, merge, fresh, callbacks) -> TrainResult:
    import torch
    from transformers import PrinterCallback, ProgressCallback, set_seed
    from trl import SFTTrainer

    started = time.time()
    run_dir = Path(output)
    splits = fdata.load_splits(data)
    fingerprint = fdata.dataset_fingerprint(splits)
    source = resolve_model(model)
    device = pick_device()
    if cfg.load_in_4bit and not four_bit_supported(device):
        raise ConfigError(
            f"bitsandbytes cannot run 4-bit NF4 on this {device}: use adapter: lora with "
            "load_in_4bit: false (finetune/configs/lora-cpu-smoke.yaml)"
        )
    dtype = pick_dtype(device)
    _optimizer(cfg, device)  # fail before loading anything
    _check_trackers(cfg)
    set_seed(cfg.seed)
    tokenizer = load_tokenizer(source)
    train_set, held, held_sizes, dropped = _prepare(splits, tokenizer, cfg)
    per_epoch, total, every = plan_steps(len(train_set.rows), cfg)
    warmup = cfg.warmup_steps_for(total)
    run_dir.mkdir(parents=True, exist_ok=True)
    resume = _last_checkpoint(run_dir / CHECKPOINTS, _run_key(cfg, source, fingerprint), fresh)
    if resume:
        console.print(f"resuming from {resume}", highlight=False)
    _say_held_out(held, held_sizes)
    peft_model = build_model(source, cfg, device, dtype)
    eval_sets = {name: _to_dataset(enc.rows, by_length=True) for name, enc in held.items()}
    if list(eval_sets) == ["validation"]:  # one set: the trainer's plain `eval_loss`
        eval_sets = eval_sets["validation"]
    trainer = SFTTrainer(
        model=peft_model,
        args=_sft_config(cfg, run_dir, device, dtype, total, every, warmup, list(held)),
        train_dataset=_to_dataset(train_set.rows),
        eval_dataset=eval_sets or None,
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    for noisy in (PrinterCallback, ProgressCallback):  # our bar replaces their dicts and tqdm
        trainer.remove_callback(noisy)
    trainer.add_callback(progress_callback())
    stop = _StopOnInterrupt()
    trainer.add_callback(stop.callback)
    with stop.catching_sigint():
        trainer.train(resume_from_checkpoint=resume)
    if stop.requested:
        raise TrainingInterrupted(
            f"interrupted at step {trainer.state.global_step}: checkpoint saved in "
            f"{run_dir / CHECKPOINTS}; run the same command again to resume"
        )
    trainer.model.save_pretrained(run_dir)
    tokenizer.save_pretrained(run_dir)
    losses = _losses(trainer.state.log_history)
    summary = {
        "model": model,
        "base_path": source.path,
        "data": str(fdata.resolve_dataset_dir(data)),
        "config": cfg.model_dump(mode="json"),
        "device": device,
        "dtype": str(dtype).removeprefix("torch."),
        "four_bit": cfg.load_in_4bit,
        "optimizer_used": _optimizer(cfg, device),
        "versions": library_versions(),
        "dataset": {
            "fingerprint": fingerprint,
            "rows": {name: len(rows) for name, rows in splits.items()},
            "train_rows_used": len(train_set.rows),
            **{
                f"{name}_rows_used": len(held[name].rows) if name in held else 0
                for name in HELD_OUT
            },
            "held_out_rows": held_sizes,
            "dropped_too_long": dropped,
            "longest_tokens": max(
                [train_set.longest_kept, *(e.longest_kept for e in held.values())]
            ),
        },
        "steps": {"per_epoch": per_epoch, "total": total, "warmup": warmup, "eval_every": every},
        "resumed_from": resume,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "best_eval_loss": trainer.state.best_metric,
        "losses": losses,
        "train_loss_went_up": loss_went_up(losses["train"]),
        "eos_token": tokenizer.eos_token,
        "seconds": round(time.time() - started, 1),
        "torch_threads": torch.get_num_threads(),
    }
    plot_losses(losses, run_dir / "loss.png")
    ollama = write_modelfile(run_dir, source, tokenizer.eos_token, merged=merge)
    summary["ollama_base"] = ollama.path
    summary["ollama_note"] = ollama.note
    del trainer, peft_model
    if merge:
        summary["merged"] = str(merge_adapter(source, run_dir, run_dir / "merged"))
    (run_dir / RUN_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return TrainResult(run_dir, summary)


def _say_held_out(held: dict, sizes: dict[str, int]) -> None:
    """One line: the held-out rows the losses are computed on, and the cap."""
    parts = [
        f"{name} {len(held[name].rows)}"
        + (f" of {sizes[name]}" if sizes[name] > len(held[name].rows) else "")
        for name in HELD_OUT
        if name in held
    ]
    if parts:
        console.print(f"held-out loss on: {', '.join(parts)} rows", highlight=False)


def loss_went_up(train: list[dict]) -> bool:
    """Whether the training loss ended higher than it began: the mean of the last quarter of
    the logged losses against the first quarter (first and last alone for 2 to 7 logs).

    Example: losses 1.98, 2.10, 2.40 -> True; 3.5, 2.0, 1.7 -> False
    """
    values = [e["loss"] for e in train]
    if len(values) < 2:
        return False
    k = max(1, len(values) // 4)
    return sum(values[-k:]) / k > sum(values[:k]) / k


def _losses(log_history: list[dict]) -> dict:
    """Train and held-out losses from the trainer's log, by step: `validation` (the
    trainer's `eval_loss` or `eval_validation_loss`) and `knowledge` when it was computed."""
    train = [
        {"step": e["step"], "epoch": round(e.get("epoch", 0), 4), "loss": e["loss"]}
        for e in log_history
        if "loss" in e
    ]
    out: dict[str, list[dict]] = {"train": train, "validation": []}
    for e in log_history:
        for key, value in e.items():
            if key.startswith("eval_") and key.endswith("loss"):
                name = key.removeprefix("eval_").removesuffix("loss").strip("_") or "validation"
                point = {"step": e["step"], "epoch": round(e.get("epoch", 0), 4), "loss": value}
                out.setdefault(name, []).append(point)
    return out


def plot_losses(losses: dict, path: Path) -> None:
    """A PNG of the train loss by step, with validation loss markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    if losses["train"]:
        ax.plot(
            [e["step"] for e in losses["train"]],
            [e["loss"] for e in losses["train"]],
            label="train",
        )
    for name, points in losses.items():
        if name != "train" and points:
            ax.plot([e["step"] for e in points], [e["loss"] for e in points], "o-", label=name)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_title("fine-tune loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def merge_adapter(source: ModelSource, adapter_dir: Path, target: Path) -> Path:
    """Reload the base in 16 bits (fp32 on the CPU), merge the adapter, save to `target`.

    Never merges into 4-bit weights: rounding the merged weights back to NF4 loses the update.
    """
    from peft import PeftModel

    device = pick_device()
    base = load_model(source, device, pick_dtype(device), four_bit=False)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(target)
    load_tokenizer(source).save_pretrained(target)
    return target
