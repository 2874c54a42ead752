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
    Path | None,
    typer.Option("--config", help="YAML with Axolotl-style keys (see `dataprep finetune config`)."),
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

    Example: dataprep finetune train --data out/dataset --model SmolLM2-135M-Instruct.Q4_1.gguf
    --output runs/smol --config finetune/configs/lora-cpu-smoke.yaml --max-steps 60
    """
    from finetune.config import load_config

    cfg = load_config(config, max_steps=max_steps)
    _require("torch")
    _require("trl")
    from finetune.train import train

    result = train(data, model, output, cfg, merge=merge, fresh=fresh)
    summary = result.summary
    losses = summary["losses"]
    typer.echo(
        f"Adapter written to {result.run_dir} ({summary['steps']['total']} steps, "
        f"{summary['device']}, {'4-bit' if summary['four_bit'] else summary['dtype']})"
    )
    if losses["train"]:
        typer.echo(
            f"Train loss {losses['train'][0]['loss']:.4f} -> {losses['train'][-1]['loss']:.4f}"
        )
    if summary["best_eval_loss"] is not None:
        typer.echo(
            f"Best validation loss {summary['best_eval_loss']:.4f} ({summary['best_checkpoint']})"
        )
    dropped = sum(summary["dataset"]["dropped_too_long"].values())
    if dropped:
        typer.echo(f"Dropped {dropped} rows longer than sequence_len {cfg.sequence_len}")
    if summary.get("merged"):
        typer.echo(f"Merged model: {summary['merged']}")
    typer.echo(f"Ollama: ollama create NAME -f {result.run_dir / 'Modelfile'}")


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
        int | None, typer.Option("--limit", min=1, help="Evaluate only the first N test rows.")
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
    """Answer the test split with the base and the fine-tuned model; compare them.

    Example: dataprep finetune eval --data out/dataset --model SmolLM2-135M-Instruct.Q4_1.gguf
    --adapter runs/smol --limit 20
    """
    _require("torch")
    _require("peft")
    from dataprep.console import console
    from finetune.evaluate import evaluate, render_table, write_report

    if max_new_tokens is None:
        max_new_tokens = _run_setting(adapter, "eval_max_new_tokens", 256)
    report = evaluate(data, model, adapter, judge, limit, max_new_tokens, batch_size)
    out_dir = output or (adapter / "eval" if adapter else Path("eval"))
    write_report(report, out_dir)
    console.print(render_table(report))
    scores = report.summary["scores"]
    if "tuned" in scores and scores["tuned"]["code"]["rows"]:
        base, tuned = scores["base"]["code"], scores["tuned"]["code"]
        typer.echo(
            f"Code answers ({tuned['rows']}): edit similarity base {base['edit_similarity']:.3f}"
            f" -> fine-tuned {tuned['edit_similarity']:.3f}; exact match "
            f"{base['exact_match']:.3f} -> {tuned['exact_match']:.3f}"
        )


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
) -> None:
    """Print the config keys with their defaults, or a config file resolved and validated.

    Example: dataprep finetune config --config finetune/configs/qlora.yaml
    """
    import yaml

    from finetune.config import describe_keys, load_config

    if config is None:
        typer.echo(describe_keys())
        return
    typer.echo(
        yaml.safe_dump(load_config(config).model_dump(mode="json"), sort_keys=False), nl=False
    )
