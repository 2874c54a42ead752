"""`dataprep review`: the local web page to accept, reject, edit and flag pairs."""

from typing import Annotated

import typer

from dataprep.commands.options import StoreOut
from dataprep.console import console


def review(
    out: StoreOut,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help="Port on 127.0.0.1. Default: 8765, or a free one if it is taken. "
            "0: any free port. A taken port given explicitly is an error.",
        ),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the URL only; do not open a browser.")
    ] = False,
) -> None:
    """Review pairs in a local web page before training.

    Starts a server on 127.0.0.1 only and prints its URL. Every action is committed to the
    store at once; once any pair is reviewed, export uses accepted and edited pairs only.

    Keys: a accept, r reject, e edit, f flag, u undo, j/k next/previous.

    Example: dataprep review --out out --port 8765 --no-browser
    """
    from dataprep.review.server import serve
    from dataprep.store import Store

    with Store.open(out, create=False) as store:  # a missing store: one line, before any port
        missing = store.review_rows_missing()
    console.print(
        f"Reviewing {out}; press Ctrl+C to stop.", highlight=False, markup=False, soft_wrap=True
    )
    if missing >= INDEX_NOTICE:  # the first start on a large store takes a while: say why
        console.print(
            f"Indexing {missing:,} pairs for the queue and its search (once; about "
            f"{max(1, round(missing * INDEX_SECONDS_PER_PAIR))} s; later starts take seconds)...",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    serve(out, port=port, open_browser=not no_browser)


INDEX_NOTICE = 20_000  # pairs to index before the first start says what it is doing
INDEX_SECONDS_PER_PAIR = 41.2 / 371_238  # measured: all of java.base's store, quiet machine


def register(app: typer.Typer) -> None:
    app.command("review")(review)
