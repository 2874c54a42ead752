"""datatrove executors for the per-item phases: local (default), Ray, Slurm.

- local: `LocalPipelineExecutor` with the `fork` start method. datatrove's default,
  forkserver, re-imports the caller's `__main__` in every worker, and a script that calls
  dataprep without an `if __name__ == "__main__":` guard then hangs instead of failing;
  forking the driver has no such trap (it holds no threads or open stores at that point).
- ray: `RayPipelineExecutor` on the cluster of `RAY_ADDRESS`, or on a local one of
  `--workers` CPUs started here (`ray.init`, about 2-3 s and 0.5-1 GB).
- slurm: `SlurmPipelineExecutor` jobs (one array per phase, each phase depending on the
  one before); `dataprep run` submits them and returns, and the same command run again
  once they finished merges the shards.

The logging folder of a phase (`DIR/.scaleout/logs/<phase>-<hash>`) is keyed by the plan,
the phase's settings and the number of tasks, so datatrove's own completion marks
(`skip_completed`) are never those of another plan; the item manifests are the truth.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dataprep.errors import InputError

EXECUTORS = ("local", "ray", "slurm")


def quiet_logs() -> None:
    """datatrove logs every task start at INFO on stderr: keep warnings and errors only
    (each task's full log stays in its logging folder)."""
    import datatrove.executor.base as base
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    if getattr(base.add_task_logger, "__dataprep__", False):
        return

    def add_task_logger(logging_dir, rank, local_rank=0, node_rank=-1):
        logger.remove()  # datatrove's own, less its INFO lines on stderr
        logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
        logger.add(logfile, level="DEBUG", colorize=False)
        logger.add(sys.stderr, level="WARNING", colorize=False, filter=_no_traceback)
        logger.info(f"Launching pipeline for {rank=}")
        return logfile

    def close_task_logger(logfile):
        logger.complete()
        logger.remove()
        logger.add(sys.stderr, level="WARNING")
        logfile.close()

    add_task_logger.__dataprep__ = True
    base.add_task_logger = add_task_logger
    base.close_task_logger = close_task_logger


def _no_traceback(record) -> bool:
    """A failed task's traceback goes to its log file; the run says it in one line."""
    return record["exception"] is None


def ray_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def check_executor(kind: str) -> None:
    """One line for an executor that cannot run here, before any work."""
    if kind not in EXECUTORS:
        raise InputError(f"--executor {kind!r} is not known: use local, ray or slurm")
    if kind == "ray" and not ray_available():
        raise InputError(
            "--executor ray needs Ray: pip install 'dataprep[ray]' (or use --executor local)"
        )


def make_executor(
    kind: str,
    pipeline: list,
    tasks: int,
    workers: int,
    logging_dir: Path,
    options: dict[str, Any],
    depends: Any = None,
):
    if kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        return LocalPipelineExecutor(
            pipeline,
            tasks=tasks,
            workers=min(workers, tasks),
            logging_dir=str(logging_dir),
            skip_completed=True,
            start_method="fork",
        )
    if kind == "ray":
        if not ray_available():
            raise InputError(
                "--executor ray needs Ray: pip install 'dataprep[ray]' (or use --executor local)"
            )
        import ray
        from datatrove.executor.ray import RayPipelineExecutor

        if not ray.is_initialized():
            ray.init(
                num_cpus=None if _cluster_address() else workers,
                include_dashboard=False,
                log_to_driver=False,
                logging_level="warning",
            )
        return RayPipelineExecutor(
            pipeline,
            tasks=tasks,
            workers=workers,
            logging_dir=str(logging_dir),
            skip_completed=True,
            cpus_per_task=1,
            mem_per_cpu_gb=options.get("mem_per_cpu_gb", 0.5),
        )
    if kind == "slurm":
        import shutil

        if shutil.which("sbatch") is None:
            raise InputError(
                "--executor slurm needs Slurm's sbatch on this machine: run on a Slurm login "
                "node, or use --executor local or ray"
            )
        if not options.get("partition"):
            raise InputError("--executor slurm needs --slurm-partition NAME")
        from datatrove.executor import SlurmPipelineExecutor

        return SlurmPipelineExecutor(
            pipeline,
            tasks=tasks,
            workers=workers,
            time=options.get("time") or "04:00:00",
            partition=options["partition"],
            logging_dir=str(logging_dir),
            skip_completed=True,
            venv_path=options.get("venv"),
            job_name="dataprep",
            depends=depends,
        )
    raise InputError(f"--executor {kind!r} is not known: use local, ray or slurm")


def _cluster_address() -> str | None:
    import os

    return os.environ.get("RAY_ADDRESS") or None
