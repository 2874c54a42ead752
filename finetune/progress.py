"""What a training run shows: one progress bar (step, loss, learning rate, ETA) and our own
lines, with the libraries' warnings, log lines and progress bars kept quiet.

On a terminal the bar is rich's; elsewhere (a CI log, a pipe) each logged step is one plain
line, `step 10/30  loss 1.2345  lr 2.00e-04  eta 0:01:23`, so a log shows progress too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Iterator

from dataprep.console import console

# Loggers of the training stack; their INFO and WARNING lines (a kernel that could not be
# loaded, a deprecated name used inside a library) are not the user's business.
NOISY_LOGGERS = (
    "transformers",
    "trl",
    "peft",
    "accelerate",
    "bitsandbytes",
    "datasets",
    "huggingface_hub",
    "torch",
)
NOISY_MODULES = r"(transformers|trl|peft|accelerate|bitsandbytes|datasets|huggingface_hub|torch)"


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silence the training stack's warnings, log lines and progress bars for a block.

    Python warnings raised inside those libraries are ignored, their loggers print errors
    only, and the datasets/transformers/hub progress bars are off; all is restored after.
    """
    levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    env = {k: os.environ.get(k) for k in ("TRANSFORMERS_VERBOSITY", "TOKENIZERS_PARALLELISM")}
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    bars = _progress_bars(False)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=NOISY_MODULES)
            warnings.filterwarnings("ignore", category=FutureWarning)
            yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _progress_bars(bars)


def _progress_bars(enabled: bool) -> bool:
    """Turn the libraries' tqdm bars on or off; returns whether they were on."""
    was = True
    try:
        import datasets

        was = datasets.is_progress_bar_enabled()
        (datasets.enable_progress_bars if enabled else datasets.disable_progress_bars)()
    except ImportError:
        pass
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()
    except ImportError:
        pass
    return was


def format_eta(seconds: float | None) -> str:
    """H:MM:SS, or `-` when unknown. Example: format_eta(83.4) -> "0:01:23"."""
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def progress_line(step: int, total: int, loss: float | None, lr: float | None, eta: float | None):
    """The plain progress line. Example: progress_line(10, 30, 1.23456, 2e-4, 83) ->
    "step 10/30  loss 1.2346  lr 2.00e-04  eta 0:01:23"."""
    loss_text = "-" if loss is None else f"{loss:.4f}"
    lr_text = "-" if lr is None else f"{lr:.2e}"
    return f"step {step}/{total}  loss {loss_text}  lr {lr_text}  eta {format_eta(eta)}"


def progress_callback(terminal: bool | None = None):
    """A transformers TrainerCallback that shows the run: a rich bar on a terminal, plain
    lines elsewhere; evaluation gets its own bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from transformers import TrainerCallback

    terminal = console.is_terminal if terminal is None else terminal

    class ProgressCallback(TrainerCallback):
        def __init__(self):
            self.bar: Progress | None = None
            self.task = None
            self.eval_task = None
            self.loss: float | None = None
            self.lr: float | None = None
            self.started = 0.0
            self.first_step = 0

        def on_train_begin(self, args, state, control, **kwargs):
            self.started, self.first_step = time.monotonic(), state.global_step
            if terminal:
                self.bar = Progress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("loss {task.fields[loss]}  lr {task.fields[lr]}"),
                    TimeElapsedColumn(),
                    TextColumn("eta"),
                    TimeRemainingColumn(),
                    console=console,
                    transient=True,
                )
                self.bar.start()
                self.task = self.bar.add_task(
                    "train", total=state.max_steps, completed=state.global_step, loss="-", lr="-"
                )

        def eta(self, state) -> float | None:
            done = state.global_step - self.first_step
            if done <= 0:
                return None
            per_step = (time.monotonic() - self.started) / done
            return per_step * (state.max_steps - state.global_step)

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(self.task, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" not in logs:
                return
            self.loss, self.lr = logs["loss"], logs.get("learning_rate")
            if self.bar is not None:
                lr = "-" if self.lr is None else f"{self.lr:.2e}"
                self.bar.update(self.task, loss=f"{self.loss:.4f}", lr=lr)
            else:
                line = progress_line(
                    state.global_step, state.max_steps, self.loss, self.lr, self.eta(state)
                )
                console.print(line, highlight=False)

        def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
            if self.bar is None:
                return
            if self.eval_task is None:
                total = len(eval_dataloader) if eval_dataloader is not None else None
                self.eval_task = self.bar.add_task("held-out loss", total=total, loss="-", lr="-")
            self.bar.advance(self.eval_task)

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if self.bar is not None and self.eval_task is not None:
                self.bar.remove_task(self.eval_task)
            self.eval_task = None
            losses = {k: v for k, v in (metrics or {}).items() if k.endswith("_loss")}
            if losses:
                text = ", ".join(f"{_set_name(k)} {v:.4f}" for k, v in sorted(losses.items()))
                console.print(f"step {state.global_step}: loss on {text}", highlight=False)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.stop()
                self.bar = None

    return ProgressCallback()


def _set_name(metric: str) -> str:
    """`eval_loss` -> "validation"; `eval_knowledge_loss` -> "knowledge"."""
    name = metric.removeprefix("eval_").removesuffix("_loss").removesuffix("loss").strip("_")
    return name or "validation"
