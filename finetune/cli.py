"""`dataprep finetune ...`: train, eval, axolotl-config, config.

Registered on the main app by `register(app)`; torch and friends load inside the
commands, so `dataprep --help` stays fast and the core install works without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dataprep.errors import DataprepError

finetune_app = typer.Typer(
    help="Fine-tune a (Q)LoRA adapter on the exported dataset, write Axolotl configs, evaluate.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Data = Annotated[
    Path, typer.Option("--data", help="The exported dataset: DIR/dataset (train/validation/test).")
]
Model = Annotated[
    str,
    typer.Option("--model", help="Base model: a Hub id, a local model directory or a .gguf file."),
]
ConfigFile = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="A preset (qlora, lora-cpu-smoke...: `dataprep finetune config --list`) or a YAML "
        "file with Axolotl-style keys.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add `dataprep finetune` to the main app."""
    app.add_typer(finetune_app, name="finetune")


def _require(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise DataprepError(
            f"{module} is not installed: pip install 'dataprep[finetune]' for the fine-tune stage"
        )


@finetune_app.command("train")
def train_cmd(
    data: Data,
    model: Model,
    output: Annotated[
        Path, typer.Option("--output", help="RUN_DIR: adapter, run.json, loss.png, Modelfile.")
    ],
    config: ConfigFile = None,
    max_steps: Annotated[
        int | None, typer.Option("--max-steps", min=1, help="Stop after N optimizer steps.")
    ] = None,
    merge: Annotated[
        bool, typer.Option("--merge", help="Also write RUN_DIR/merged: base (16 bits) + adapter.")
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Delete RUN_DIR's checkpoints instead of resuming from them."),
    ] = False,
) -> None:
    """Train a QLoRA (or LoRA) adapter on the train split; resume an interrupted run.

    Without --config: the QLoRA defaults on a GPU, the lora-cpu preset without one.

    Example: dataprep finetune train --data out/dataset --model SmolLM2-135M-Instruct.Q4_1.gguf
    --output runs/smol --config lora-cpu-smoke --max-steps 60
    """
    from finetune.config import load_config

    _require("torch")
    _require("trl")
    chosen = config or _device_default()
    cfg = load_config(chosen, max_steps=max_steps)
    from finetune.train import train

    result = train(data, model, output, cfg, merge=merge, fresh=fresh)
    if config is None and chosen == CPU_PRESET:
        typer.echo(
            f"No GPU, so the {CPU_PRESET} preset: LoRA on the full-precision base (4-bit kernels "
            "are slow on CPUs; --config qlora-cpu trains in 4 bits)"
        )
    _say_trained(result, cfg)


CPU_PRESET = "lora-cpu"


def _device_default() -> str | None:
    """No --config: the QLoRA defaults on a GPU; without one, the lora-cpu preset."""
    import torch

    return None if torch.cuda.is_available() else CPU_PRESET


def _say_trained(result, cfg) -> None:
    """The run's summary lines: steps, losses (flagging a training loss that went up), the
    best held-out loss, dropped rows and how to use the adapter with Ollama."""
    from dataprep.console import warn

    summary = result.summary
    losses = summary["losses"]
    typer.echo(
        f"Adapter written to {result.run_dir} ({summary['steps']['total']} steps, "
        f"{summary['device']}, {'4-bit' if summary['four_bit'] else summary['dtype']})"
    )
    if losses["train"]:
        first, last = losses["train"][0]["loss"], losses["train"][-1]["loss"]
        typer.echo(f"Train loss {first:.4f} -> {last:.4f}")
        if summary.get("train_loss_went_up"):
            warn(
                f"the training loss went up ({first:.4f} -> {last:.4f}) over "
                f"{summary['steps']['total']} steps: too few steps to tell, or a learning rate "
                f"too high for this model (learning_rate {cfg.learning_rate:g})"
            )
    if summary["best_eval_loss"] is not None:
        typer.echo(
            f"Best validation loss {summary['best_eval_loss']:.4f} ({summary['best_checkpoint']})"
        )
    if losses.get("knowledge"):
        typer.echo(f"Knowledge loss {losses['knowledge'][-1]['loss']:.4f} (last evaluation)")
    dropped = sum(summary["dataset"]["dropped_too_long"].values())
    if dropped:
        typer.echo(f"Dropped {dropped} rows longer than sequence_len {cfg.sequence_len}")
    if summary.get("merged"):
        typer.echo(f"Merged model: {summary['merged']}")
    if summary.get("ollama_base"):
        typer.echo(f"Ollama: ollama create NAME -f {result.run_dir / 'Modelfile'}")
    else:
        warn(f"Ollama needs --merge: {summary['ollama_note']} (see {result.run_dir / 'Modelfile'})")


@finetune_app.command("eval")
def eval_cmd(
    data: Data,
    model: Model,
    adapter: Annotated[
        Path | None, typer.Option("--adapter", help="RUN_DIR of `finetune train` (the adapter).")
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            "--judge",
            help="LLM judge, 0-100: ollama:MODEL, openai:MODEL@BASE_URL or transformers:PATH.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", min=1, help="Evaluate N rows of each set, round-robin over its families."
        ),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A held-out set to evaluate: knowledge or generalisation (repeat; default both).",
        ),
    ] = None,
    max_new_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-new-tokens",
            min=1,
            help="Longest answer in tokens (default: the run's eval_max_new_tokens, else 256).",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Prompts generated together.")
    ] = 4,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where eval.json/eval.html go (default RUN_DIR/eval)."),
    ] = None,
) -> None:
    """Answer the held-out sets with the base and the fine-tuned model; compare them per
    set (knowledge of the repository, generalisation to held-out files) and task family.

    Example: dataprep finetune eval --data out/dataset --model SmolLM2-135M-Instruct.Q4_1.gguf
    --adapter runs/smol --limit 40
    """
    _require("torch")
    _require("peft")
    from dataprep.console import console
    from finetune.eval_report import render_table, write_report
    from finetune.evaluate import evaluate

    if max_new_tokens is None:
        max_new_tokens = _run_setting(adapter, "eval_max_new_tokens", 256)
    report = evaluate(data, model, adapter, judge, limit, max_new_tokens, batch_size, sets)
    out_dir = output or (adapter / "eval" if adapter else Path("eval"))
    write_report(report, out_dir)
    console.print(render_table(report))
    for set_name, found in report.summary["verdicts"].items():
        for way in ("better", "worse", "same"):
            if found[way]:
                typer.echo(f"{set_name}: fine-tuned {way} on {'; '.join(found[way])}")


def _run_setting(run_dir: Path | None, key: str, default):
    """A config value recorded in RUN_DIR/run.json by `finetune train`, else `default`."""
    import json

    path = run_dir / "run.json" if run_dir else None
    if path is None or not path.is_file():
        return default
    return json.loads(path.read_text(encoding="utf-8")).get("config", {}).get(key, default)


@finetune_app.command("axolotl-config")
def axolotl_cmd(
    data: Data,
    model: Model,
    output: Annotated[Path, typer.Option("--output", "-o", help="The Axolotl YAML to write.")],
    config: ConfigFile = None,
) -> None:
    """Write an Axolotl config (type: alpaca, QLoRA) for the same dataset and hyperparameters.

    Example: dataprep finetune axolotl-config --data out/dataset
    --model HuggingFaceTB/SmolLM2-135M-Instruct -o axolotl.yml
    """
    from finetune.axolotl import write_axolotl_config
    from finetune.config import load_config

    path = write_axolotl_config(data, model, load_config(config), output)
    typer.echo(f"Wrote {path}; on a GPU box: axolotl train {path.name}")


@finetune_app.command("config")
def config_cmd(
    config: ConfigFile = None,
    list_presets: Annotated[
        bool, typer.Option("--list", help="List the presets --config takes by name.")
    ] = False,
) -> None:
    """Print the config keys with their defaults, the presets, or a config resolved and validated
    (a preset, a YAML file of these keys, or an Axolotl file written by `axolotl-config`).

    Example: dataprep finetune config --config qlora
    """
    import yaml

    from finetune.axolotl import load_any_config
    from finetune.config import describe_keys, describe_presets

    if list_presets:
        typer.echo(describe_presets())
        return
    if config is None:
        typer.echo(describe_keys())
        return
    typer.echo(
        yaml.safe_dump(load_any_config(config).model_dump(mode="json"), sort_keys=False), nl=False
    )
