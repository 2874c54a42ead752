"""`dataprep slice`: a repository in, one JSON object per unit out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from dataprep.console import console, progress, warn


def register(app: typer.Typer) -> None:
    app.command("slice")(slice_command)


def slice_command(
    path: Annotated[Path, typer.Argument(help="Repository checkout (a folder) to slice.")],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Units file to write (JSON Lines); '-' for stdout."),
    ] = Path("units.jsonl"),
    parser: Annotated[
        str,
        typer.Option(
            "--parser", help="Java parser: tree-sitter (default, any Java) or javalang (Java 8)."
        ),
    ] = "tree-sitter",
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes (default: the usable CPUs)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary table.")] = False,
) -> None:
    """Slice a repository's Java sources and docs into units (types, members, doc sections).

    Example: dataprep slice fixtures/hotel-booking -o units.jsonl --jobs 2
    """
    from dataprep.errors import InputError
    from dataprep.slicing import PARSERS, slice_repo

    if parser not in PARSERS:
        raise InputError(f"--parser {parser!r} is not known: use tree-sitter or javalang")
    if str(output) != "-" and output.is_dir():
        raise InputError(f"{output} is a folder: give a file name for -o, e.g. -o units.jsonl")
    with progress() as bar:
        task = bar.add_task("slicing", total=None)

        def total(count: int) -> None:
            bar.update(task, total=count)

        def advance(_path: str) -> None:
            bar.advance(task)

        from dataprep.procs import default_jobs

        jobs = jobs or default_jobs()
        result = slice_repo(path, parser=parser, jobs=jobs, on_file=advance, on_total=total)
    for message in result.parse_errors:
        warn(message)
    for message in result.warnings:
        warn(message)
    _write(output, result)
    if not quiet:
        print_summary(result, output)


def _write(output: Path, result) -> None:
    """Write units as JSON Lines, atomically (a killed run leaves no half-written file)."""
    if str(output) == "-":
        typer.echo(result.jsonl(), nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            result.write_jsonl(handle)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


def print_summary(result, output: Path) -> None:
    """The closing table: files parsed, skipped by reason, units by kind, parse errors."""
    from rich.table import Table

    table = Table(
        title=f"{result.repo} ({result.commit or 'no git commit'}), parser {result.parser}"
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("files parsed", str(len(result.parsed)))
    table.add_row("lines parsed", str(result.lines))
    for reason, count in sorted(result.skipped_by_reason().items()):
        table.add_row(f"skipped: {reason}", str(count))
    for kind, count in sorted(result.units_by_kind().items()):
        table.add_row(f"units: {kind}", str(count))
    table.add_row("units (all)", str(sum(result.kinds.values())))
    table.add_row("parse errors", str(len(result.parse_errors)))
    console.print(table, width=None if console.is_terminal else 200)  # a log: no wrapped cells
    where = "stdout" if str(output) == "-" else str(output)
    console.print(f"wrote {sum(result.kinds.values())} units to {where}", highlight=False)
