"""The Slurm executor path without a cluster: datatrove's SlurmPipelineExecutor submits
its launch scripts to a stand-in `sbatch` on PATH that runs every array task at once on
this machine (SLURM_ARRAY_TASK_ID, SLURM_JOB_ID, RUN_OFFSET as Slurm sets them), with
`srun` and `scontrol` stand-ins beside it. The jobs are real processes that unpickle the
executor and run dataprep's steps; the rows must be those of the local executor.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest
from test_scaleout import _home, _rows, _run, _urls, repos  # noqa: F401  (fixtures)

BIN = Path(sys.executable).parent
SBATCH = r'''#!{python}
"""sbatch stand-in: run each array task of the script now, in order; print the job id."""
import os, re, subprocess, sys
from pathlib import Path

counter = Path(os.environ["FAKE_SLURM_DIR"]) / "jobs"
job = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(job))
env = dict(os.environ, SLURM_JOB_ID=str(job), SLURM_NODELIST="localhost", SLURM_NODEID="0")
script = None
for arg in sys.argv[1:]:
    if arg.startswith("--export=ALL,"):
        env.update(kv.split("=", 1) for kv in arg.split(",")[1:])
    elif not arg.startswith("--"):
        script = arg
text = Path(script).read_text()
with open(Path(os.environ["FAKE_SLURM_DIR"]) / "submitted.log", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\n")
found = re.search(r"^#SBATCH --array=0-(\d+)", text, re.M)
out = re.search(r"^#SBATCH --output=(\S+)", text, re.M)
for task in range(int(found.group(1)) + 1 if found else 1):
    task_env = dict(env, SLURM_ARRAY_TASK_ID=str(task)) if found else env
    logfile = out.group(1).replace("%A", str(job)).replace("%a", str(task)) if out else os.devnull
    Path(logfile).parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "w") as fh:
        rc = subprocess.run(["bash", script], env=task_env, stdout=fh, stderr=fh).returncode
    if rc:
        sys.exit(f"sbatch stand-in: task {{task}} of job {{job}} failed (see {{logfile}})")
print(f"Submitted batch job {{job}}")
'''
SRUN = r"""#!/bin/bash
# srun stand-in: drop srun's options, run the command
while [ $# -gt 0 ]; do
  case "$1" in
    -n|-N) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
exec "$@"
"""
SCONTROL = """#!/bin/bash
# scontrol stand-in: `scontrol show hostnames LIST` -> this machine
[ "$1 $2" = "show hostnames" ] && echo localhost
exit 0
"""


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    if not (BIN / "launch_pickled_pipeline").is_file() or shutil.which("bash") is None:
        pytest.skip("datatrove's launch_pickled_pipeline (or bash) is not installed here")
    bin_dir = tmp_path / "slurm-bin"
    bin_dir.mkdir()
    for name, text in {
        "sbatch": SBATCH.format(python=sys.executable),
        "srun": SRUN,
        "scontrol": SCONTROL,
    }.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(tmp_path))
    root = str(Path(__file__).parents[1])  # the jobs import this checkout's dataprep
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )
    return tmp_path


def test_the_slurm_executor_gives_the_same_rows(fake_slurm, repos, tmp_path):  # noqa: F811
    sources = _urls(repos, "hotel", "fork", "vendor")
    local = _run(
        *sources, "--out", str(tmp_path / "local" / "out"), "--tasks", "2", "--workers", "1"
    )
    assert local.exit_code == 0, local.output
    out = tmp_path / "slurm" / "out"  # the same name: the project in the system prompt
    args = [*sources, "--out", str(out), "--executor", "slurm", "--slurm-partition", "cpu"]
    result = _run(*args, "--tasks", "2", "--workers", "2", "--scratch", str(tmp_path / "node"))
    assert result.exit_code == 0, result.output
    submitted = (fake_slurm / "submitted.log").read_text().splitlines()
    arrays = [line for line in submitted if line.startswith("--export=ALL,RUN_OFFSET=0 ")]
    assert len(arrays) == 2 and len(submitted) == 4  # slice, generate; their stats merges
    assert "on the slurm executor" in result.output
    assert _rows(out) == _rows(tmp_path / "local" / "out")
    # the same command again: every item verifies, nothing is submitted
    again = _run(*args, "--tasks", "2", "--workers", "2", "--scratch", str(tmp_path / "node"))
    assert again.exit_code == 0, again.output
    assert "(3 sliced and 3 generated before, skipped)" in again.output
    assert (fake_slurm / "submitted.log").read_text().splitlines() == submitted


def test_slurm_without_a_partition_is_one_line(fake_slurm, repos, tmp_path):  # noqa: F811
    result = _run(
        *_urls(repos, "hotel", "vendor"), "--out", str(tmp_path / "o"), "--executor", "slurm"
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "--slurm-partition" in result.output
