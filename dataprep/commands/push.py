"""`dataprep push`: upload the exported dataset and its card to the Hugging Face Hub."""

from typing import Annotated

import typer

from dataprep.commands.options import StoreOut
from dataprep.console import console


def register(app: typer.Typer) -> None:
    app.command("push")(push)


def push(
    repo_id: Annotated[str, typer.Argument(help="Hub dataset repository, OWNER/NAME.")],
    out: StoreOut,
    public: Annotated[
        bool, typer.Option("--public", help="Create the repository public (default: private).")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show exactly what would be uploaded; upload nothing."),
    ] = False,
) -> None:
    """Upload the Parquet splits, the dataset card and the trainer files to the Hub, in one commit.

    The token comes from HF_TOKEN or the saved login (`hf auth login`) and is never
    printed. Rows are scanned for secrets first; a finding stops the push.

    Example: dataprep push --out out alice/hotel-booking-pairs --dry-run
    """
    from dataprep.push import describe_plan, push_dataset

    doing = "checking the export and scanning for secrets" if dry_run else f"pushing to {repo_id}"
    with console.status(doing):
        result = push_dataset(out, repo_id, public=public, dry_run=dry_run)
    if dry_run:
        typer.echo(describe_plan(result["plan"], result["scanned"]))
        return
    plan = result["plan"]
    visibility = "private" if plan.private else "public"
    created = "created, " if result["created"] else ""
    typer.echo(
        f"Pushed {len(plan.files)} files ({plan.total_bytes:,} bytes, {plan.total_rows:,} rows) "
        f"to {plan.url} ({created}{visibility}) in commit {result['commit'][:12]}"
    )
    if result.get("note"):
        typer.echo(f"Note: {result['note']}")
