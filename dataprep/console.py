"""Terminal output shared by the stages: a stderr console, warnings and progress bars."""

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


def warn(message: str) -> None:
    """Print a one-line warning (per-item problems are warnings and counters, never aborts)."""
    console.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)


def note(message: str) -> None:
    """Print a one-line notice on stderr (what dataprep chose for the user, and why)."""
    console.print(message, highlight=False, soft_wrap=True, markup=False)


def progress(*extra_columns) -> Progress:
    """A progress display for long work; it hides itself when stderr is not a terminal.

    Example:
        with progress() as bar:
            task = bar.add_task("slice", total=len(files))
            ...; bar.advance(task)
    """
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
