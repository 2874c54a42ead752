"""`dataprep run PATH --out DIR`: the main job, every stage in order on one repository."""

from pathlib import Path
from typing import Annotated

import typer

from dataprep.commands.options import (
    DecontaminateAgainst,
    DryRun,
    EvolQuestions,
    EvolRounds,
    EvolUnits,
    IncludeUnreviewed,
    Jobs,
    LLMConcurrency,
    LLMEndpoint,
    LLMHost,
    LLMMaxTokens,
    LLMNumCtx,
    LLMSeed,
    LLMSpec,
    LLMTemperature,
    LLMTimeout,
    MaxSeqLen,
    Out,
    Parser,
    Seed,
    SourceURL,
    SplitBy,
    Style,
    Tokenizer,
    from_config,
)
from dataprep.settings import DEFAULT_TIMEOUT, EvolConfig, LLMOptions, RunConfig


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("templates")(templates)


def run(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SOURCE...",
            help="Repositories: local folders or git URLs (https://, git@HOST:, ssh://, "
            "file://), each with an optional @REF. One local folder is today's one-repository "
            "run; several make one dataset.",
            show_default=False,
        ),
    ] = None,
    out: Out = ...,
    sources_file: Annotated[
        Path | None,
        typer.Option(
            "--sources",
            help="A file of sources, one a line (# starts a comment), after those given.",
        ),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            metavar="[local|ray|slurm]",
            help="Where the per-repository work runs (datatrove executors). Default: local "
            "whenever there is more than one source; give it to split one large repository "
            "into work items of at most 5,000 files.",
        ),
    ] = None,
    tasks: Annotated[
        int | None,
        typer.Option(
            "--tasks",
            min=1,
            help="Tasks per phase (default: one per work item, at most 64; on Ray one per "
            "worker, as each Ray task starts a process).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Tasks run at once (default: CPUs, as --jobs)."),
    ] = None,
    scratch: Annotated[
        Path | None,
        typer.Option(
            "--scratch",
            help="Local folder for the work items' SQLite scratch stores (default: DIR/.scratch "
            "with the local executor, the system temp folder otherwise; never a shared "
            "filesystem).",
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            metavar="FOLDER",
            help="A folder on this machine's disk for the working SQLite store "
            "(FOLDER/dataprep.db; DIR/store.json says where it is, and every command given "
            "--out DIR finds it). Default: DIR itself, or a cache folder when DIR is on a "
            "network filesystem (NFS, Lustre, SMB, ...), where SQLite must not live.",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Stop (exit 1) when a source cannot be reached, instead of going on without it.",
        ),
    ] = False,
    licenses: Annotated[
        str | None,
        typer.Option(
            "--licenses",
            metavar="ALLOW",
            help="Comma list of SPDX ids (MIT,Apache-2.0,...): keep only sources whose detected "
            "licence is one of them; sources of unknown licence are left out and named.",
        ),
    ] = None,
    dedup_threshold: Annotated[
        float,
        typer.Option(
            "--dedup-threshold",
            help="Jaccard similarity above which a unit of a later source is a copy of an "
            "earlier source's (forks, vendored code): it makes no pairs.",
        ),
    ] = 0.85,
    append: Annotated[
        Path | None,
        typer.Option(
            "--append",
            metavar="DIR1",
            help="An earlier run's --out whose dataset is published: the new sources' units "
            "that copy its units (exactly or near, as --dedup-threshold) make no pairs and no "
            "LLM call, and pairs equal or near to its rows are dropped. DIR1 is only read. "
            "Example: dataprep run ../billing --out out-2 --append out-1",
        ),
    ] = None,
    slurm_partition: Annotated[
        str | None, typer.Option("--slurm-partition", help="With --executor slurm.")
    ] = None,
    slurm_time: Annotated[
        str | None,
        typer.Option("--slurm-time", help="With --executor slurm: a task's time limit."),
    ] = None,
    parser: Parser = RunConfig.parser,
    jobs: Jobs = None,
    seed: Seed = RunConfig.seed,
    style: Style = RunConfig.style,
    source_url: SourceURL = None,
    split_by: SplitBy = RunConfig.split_by,
    include_unreviewed: IncludeUnreviewed = RunConfig.include_unreviewed,
    llm: LLMSpec = None,
    llm_host: LLMHost = None,
    llm_endpoint: LLMEndpoint = None,
    llm_timeout: LLMTimeout = DEFAULT_TIMEOUT,
    llm_concurrency: LLMConcurrency = EvolConfig.concurrency,
    evol_units: EvolUnits = EvolConfig.units,
    evol_rounds: EvolRounds = EvolConfig.rounds,
    evol_questions: EvolQuestions = EvolConfig.questions_per_unit,
    llm_temperature: LLMTemperature = LLMOptions.temperature,
    llm_seed: LLMSeed = LLMOptions.seed,
    llm_num_ctx: LLMNumCtx = LLMOptions.num_ctx,
    llm_max_tokens: LLMMaxTokens = LLMOptions.max_tokens,
    dry_run: DryRun = EvolConfig.dry_run,
    max_seq_len: MaxSeqLen = None,
    tokenizer: Tokenizer = None,
    decontaminate_against: DecontaminateAgainst = None,
    balance: str = from_config(RunConfig, "balance"),
    trivia_share: float = from_config(RunConfig, "trivia_share"),
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into a non-empty --out that holds no dataprep.db, or one whose store "
            "was made from another repository. Files dataprep did not write are never deleted "
            "or overwritten, even so.",
        ),
    ] = False,
) -> None:
    """Slice a repository, generate grounded pairs, filter, split and export the dataset.

    The working store DIR/dataprep.db keeps every stage's results: run it again and only
    what changed is redone; a run that was killed continues where it stopped. Without
    --llm no server or network is needed.

    Example: dataprep run fixtures/hotel-booking --out out --style chatml

    Many repositories make one dataset (forks and copies deduplicated across them):

    \b
      dataprep run ../shop https://github.com/acme/billing@v2 --out out --workers 2
      dataprep run --sources repos.txt --out out --tasks 8 --workers 2 --licenses MIT,Apache-2.0
      dataprep run --sources repos.txt --out /shared/out --store ~/dataprep-store --executor ray
      dataprep run ../billing ../search --out out-2 --append out-1   # no copy of out-1's

    No pair may copy a benchmark's problems or solutions:

    \b
      dataprep run ../shop --out out --decontaminate-against bench/humaneval-x-java.jsonl
    """
    from dataprep.pipeline import default_jobs, run_pipeline

    if out is ...:
        raise typer.BadParameter("Missing option '--out' / '-O'.")
    from dataprep import sources as src

    specs = src.read_specs(list(sources or []), sources_file)
    if decontaminate_against:  # a bad index is one line before any work
        from dataprep.filters.benchmarks import BenchmarkIndex

        BenchmarkIndex.load(decontaminate_against)
    config = RunConfig(
        path=None,
        out=out,
        parser=parser,
        jobs=jobs or default_jobs(),
        seed=seed,
        style=style,
        source_url=source_url,
        split_by=split_by,
        include_unreviewed=include_unreviewed,
        force=force,
        store=store,
        balance=balance,
        trivia_share=trivia_share,
        llm=llm,
        llm_host=llm_host,
        llm_endpoints=list(llm_endpoint or []),
        llm_timeout=llm_timeout,
        llm_concurrency=llm_concurrency,
        evol_units=evol_units,
        dry_run=dry_run,
        llm_options={
            "rounds": evol_rounds,
            "questions": evol_questions,
            "temperature": llm_temperature,
            "llm_seed": llm_seed,
            "num_ctx": llm_num_ctx,
            "max_tokens": llm_max_tokens,
        },
        max_seq_len=max_seq_len,
        tokenizer=tokenizer,
        decontaminate_against=[str(p) for p in decontaminate_against or []],
    )
    if append is not None:  # the earlier dataset's units go through the many-source dedup
        from dataprep.scaleout import append as appending

        config.append = str(appending.check(append, out))
    if len(specs) == 1 and executor is None and not append and not src.is_git_url(specs[0]):
        config.path = Path(specs[0])  # one folder: today's run, unchanged
        print_summary(run_pipeline(config))
        return
    from dataprep.scaleout.executors import check_executor
    from dataprep.scaleout.runner import ScaleOptions

    check_executor(executor or "local")  # before any source is fetched
    options = ScaleOptions(
        executor=executor or "local",
        tasks=tasks,
        workers=workers or jobs or default_jobs(),
        scratch=scratch,
        dedup_threshold=dedup_threshold,
        executor_options={"partition": slurm_partition, "time": slurm_time},
        append=Path(config.append) if config.append else None,
    )
    pinned = pin_sources(specs, strict, licenses, options)
    if len(specs) == 1 and executor is None and not append:  # one git URL: today's run
        from dataprep.source import public_url

        config.path = pinned[0].root
        config.source_url = config.source_url or public_url(pinned[0].url)
        print_summary(run_pipeline(config))
        return
    from dataprep.scaleout.runner import run_many

    summary = run_many(config, pinned, options)
    print_summary(summary)


def pin_sources(specs: list[str], strict: bool, licenses: str | None, options) -> list:
    """Pin and fetch every source; one line for each one left out (unreachable, or its
    licence not allowed), which stops the run with --strict (unreachable) or when none is left.
    """
    from dataprep import sources as src
    from dataprep.errors import InputError

    allowed = {x.strip() for x in licenses.split(",") if x.strip()} if licenses else None
    if licenses is not None and not allowed:
        raise InputError("--licenses is empty: pass SPDX ids such as MIT,Apache-2.0")
    pinned = []
    for priority, spec in enumerate(specs):
        try:
            source = src.resolve(spec, priority)
            pinned.append(source)
        except src.SourceError as exc:
            if strict:
                raise InputError(f"{exc} (--strict: no source is left out)") from None
            typer.echo(f"Source left out: {exc}", err=True)
            options.skipped_sources.append({"url": spec, "status": f"unreachable: {exc}"})
    src.unique_names(pinned)
    kept = []
    for source in pinned:
        try:
            src.checkout(source)
        except src.SourceError as exc:
            if strict:
                raise InputError(f"{exc} (--strict: no source is left out)") from None
            typer.echo(f"Source left out: {exc}", err=True)
            options.skipped_sources.append({"url": source.url, "status": f"unreachable: {exc}"})
            continue
        src.detect(source)
        if allowed is not None and source.license not in allowed:
            why = "unknown" if source.license in (None, "other") else source.license
            typer.echo(
                f"Source left out: {source.url}: licence {why} is not in --licenses", err=True
            )
            options.skipped_sources.append(
                {
                    "name": source.name,
                    "url": source.url,
                    "commit": source.commit,
                    "license": source.license,
                    "status": f"licence {why} not allowed",
                }
            )
            continue
        kept.append(source)
    if not kept:
        raise InputError("no source is left to read: check the lines above, then run again")
    return kept


def _counts(counter: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def print_summary(summary: dict) -> None:
    """The closing summary: units by kind, pairs by task, rows per split, where files are."""
    echo = typer.echo
    c = summary["counters"]
    sl = c.get("slice", {})
    units = summary["units_by_kind"]
    echo(
        f"Sliced {sl.get('files', 0)} files ({sl.get('sliced', 0)} new or changed, "
        f"{sl.get('unchanged', 0)} unchanged, {sl.get('forgotten', 0)} removed) "
        f"into {sum(units.values())} units: {_counts(units)}"
    )
    if summary.get("sources"):
        echo("\n".join(sources_lines(summary)))
    gen = c.get("generate", {})
    if gen:
        echo(
            f"Template pairs: {gen.get('units_generated', 0)} units regenerated, "
            f"{gen.get('pairs_new', 0)} new pairs, {gen.get('pairs_removed', 0)} removed"
        )
    if "llm" in c:
        for text in c["llm"].get("lines") or [_llm_line(c["llm"])]:
            echo(f"LLM generator: {text}")
    bal = c.get("balance", {})
    if bal.get("cut"):
        cuts = sorted(bal["cut"].items(), key=lambda kv: kv[1][1] - kv[1][0])
        shown = ", ".join(f"{t} {n:,} -> {m:,}" for t, (n, m) in cuts[:4])
        more = f" and {len(cuts) - 4} more" if len(cuts) > 4 else ""
        echo(
            f"Balancing dropped {bal['dropped']:,} trivia pairs ({shown}{more}); "
            "--balance off keeps them"
        )
    appended = c.get("decontaminate", {}).get("append")
    if appended:
        echo(
            f"Append: {appended['dropped']} of {appended['checked']} pairs are equal or near to "
            f"one of the {appended['rows']} rows published in {appended['dir']}, and were dropped"
        )
    bench = c.get("decontaminate", {}).get("benchmark")
    if bench:
        from dataprep.commands.filter import benchmark_line

        echo(benchmark_line(bench))
    tasks = summary["pairs_by_task"]
    echo(f"Pairs kept: {sum(tasks.values())}; by task: {_counts(tasks)}")
    splits = summary["rows_per_split"]
    if splits:
        echo("Rows per split: " + ", ".join(f"{s} {n}" for s, n in splits.items()))
    if summary.get("dataset_dir"):
        files = [f for f in summary["files"] if "/" not in f]  # hf/ is one folder
        echo(f"Dataset: {summary['dataset_dir']} (" + ", ".join(files) + ", hf/)")
    if summary.get("unreviewed_left_out"):
        echo(left_out_note(summary["unreviewed_left_out"]))
    if summary.get("quality"):
        echo(summary["quality"])
    if summary.get("report"):
        echo(f"Report: {Path(summary['report']).with_suffix('.html')} (and .json)")
    timings = summary["timings"]
    store = summary.get("store") or Path(summary["out"]) / "dataprep.db"
    echo(
        f"Store: {store}; took {sum(timings.values()):.1f} s ("
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        + ")"
    )
    if summary.get("dataset_dir"):
        echo("\n".join(next_steps(summary)))


def sources_lines(summary: dict) -> list[str]:
    """Many sources: each with its commit and licence (unknown ones flagged), the work items
    and what the cross-source dedup removed."""
    c = summary["counters"]
    used = [s for s in summary["sources"] if s.get("status") == "used"]
    lines = [f"Sources: {len(used)} used, {len(summary['sources']) - len(used)} left out"]
    for s in summary["sources"]:
        licence = s.get("license")
        licence = "licence UNKNOWN" if licence in (None, "other") else f"licence {licence}"
        commit = (s.get("commit") or "")[:12] or "-"
        state = "" if s.get("status") == "used" else f" (left out: {s.get('status')})"
        lines.append(f"  {s.get('name') or '-'} {s['url']} @ {commit}, {licence}{state}")
    sl, gen, dd = c.get("slice", {}), c.get("generate", {}), c.get("dedup", {})
    lines.append(
        f"Work items: {sl.get('items', 0)} on the {summary.get('executor')} executor "
        f"({sl.get('items_skipped', 0)} sliced and {gen.get('items_skipped', 0)} generated "
        "before, skipped)"
    )
    by = ", ".join(f"{k} {v}" for k, v in (dd.get("by_source") or {}).items())
    lines.append(
        f"Cross-source dedup: {dd.get('dropped', 0)} of {dd.get('units', 0)} units are copies "
        f"of an earlier source's and make no pairs" + (f" ({by})" if by else "")
    )
    published = dd.get("published")
    if published:
        lines.append(
            f"Append to {published['dir']}: {published['dropped']} new units copy one of its "
            f"{published['units']} published units and make no pairs"
        )
    shards = c.get("llm_shards") or {}
    if shards.get("loaded") or shards.get("exported"):
        lines.append(
            f"LLM answers in the shards: {shards.get('loaded', 0)} loaded into the store's "
            f"cache, {shards.get('exported', 0)} kept with their work items (llm.parquet)"
        )
    return lines


DEFAULT_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


def next_steps(summary: dict) -> list[str]:
    """What to do after a run: review, train and evaluate, push, as commands to paste.

    Example: next_steps({"out": "out", "dataset_dir": "out/dataset", "repo": "shop", ...})[1]
        -> "  1. Review the pairs (once any is reviewed, only accepted ones are exported):"
    """
    from shlex import quote

    from dataprep.chat_template import PREFIX

    out, data = quote(str(summary["out"])), quote(str(summary["dataset_dir"]))
    style = summary.get("style") or "alpaca"
    model = quote(style[len(PREFIX) :] if style.startswith(PREFIX) else DEFAULT_MODEL)
    name = _slug(summary.get("repo") or "dataset")
    run = quote(f"runs/{name}")
    return [
        "Next steps:",
        "  1. Review the pairs (once any is reviewed, only accepted ones are exported):",
        f"     dataprep review --out {out}",
        "  2. Fine-tune an adapter, then compare it with the base model:",
        f"     dataprep finetune train --data {data} --model {model} --output {run}",
        f"     dataprep finetune eval --data {data} --model {model} --adapter {run}",
        "  3. Publish the dataset on the Hugging Face Hub (private; the dry run shows the files):",
        f"     dataprep push --out {out} YOUR_HF_USER/{name}-instructions --dry-run",
    ]


def _slug(text: str) -> str:
    """A Hub-friendly name. Example: "Hotel Booking!" -> "hotel-booking"."""
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in text.lower())
    return "-".join(filter(None, slug.split("-"))) or "dataset"


def left_out_note(count: int) -> str:
    """The note when reviews narrow the export to the pairs a person accepted."""
    return (
        f"Note: {count} pairs not reviewed yet were left out (only accepted and edited pairs "
        "are exported once any pair is reviewed): pass --include-unreviewed to export them too"
    )


def _llm_line(data: dict) -> str:
    keys = [k for k in ("calls", "pairs", "eliminated", "tokens") if k in data]
    return ", ".join(f"{k} {data[k]}" for k in keys) or "done"


def templates(
    directory: Annotated[
        Path | None,
        typer.Option(
            help="A folder of instruction template files to check instead of the shipped ones."
        ),
    ] = None,
) -> None:
    """List the instruction tasks and prompt styles (validating the template files).

    Example: dataprep templates
    """
    from dataprep.generate.tasks import load_templates
    from dataprep.prompts import style_names

    tasks = load_templates(directory)
    for task_id, task in tasks.items():
        kinds = ",".join(task.kinds)
        typer.echo(
            f"{task_id:20} {len(task.phrasings)} phrasings  answer={task.answer:18} kinds={kinds}"
        )
    typer.echo("styles: " + ", ".join([*style_names(), "chat-template:MODEL"]))
