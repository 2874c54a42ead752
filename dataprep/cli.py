"""The `dataprep` command: one thin command per stage.

Each command parses its options, calls one library function and prints a summary.
A DataprepError becomes `Error: <message>` on stderr and exit code 1; bad usage exits 2.
"""

import sqlite3
from typing import Annotated

import click
import typer
import typer.core

from dataprep import __version__
from dataprep.errors import DataprepError, system_error


class _Group(typer.core.TyperGroup):
    """Turns library errors into one-line messages with exit code 1, for every command."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        # typer vendors its own click, so a `click.ClickException` raised here is not
        # caught by typer's handler (it escapes as a traceback): print and exit instead.
        except DataprepError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo(
                "Error: interrupted: what was committed is kept; run again to continue", err=True
            )
            raise typer.Exit(1) from None
        except (OSError, sqlite3.Error) as exc:
            from dataprep.store import last_opened

            error = system_error(exc, last_opened())
            if error is None:
                raise
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    help="Turn a code repository and its docs into a grounded, reviewed instruction dataset.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dataprep {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Turn a code repository and its docs into a grounded, reviewed instruction dataset.

    Quick start: dataprep run fixtures/hotel-booking --out out
    """


def main() -> None:
    """Console-script entry point."""
    from dataprep.procs import large_blocks_mapped, sigterm_as_interrupt

    sigterm_as_interrupt()
    large_blocks_mapped()
    app()


# The stages, in pipeline order (the order `dataprep --help` lists them in).
from dataprep.commands import (  # noqa: E402
    balance,
    export,
    filter,
    generate,
    push,
    review,
    run,
)
from dataprep.commands import slice as slice_  # noqa: E402
from finetune import cli as finetune_cli  # noqa: E402

for _stage in (slice_, run, generate, filter, balance, review, export, push, finetune_cli):
    _stage.register(app)
