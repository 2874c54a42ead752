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

    Store.open(out, create=False).close()  # a missing store is a one-line error, before any port
    console.print(
        f"Reviewing {out}; press Ctrl+C to stop.", highlight=False, markup=False, soft_wrap=True
    )
    serve(out, port=port, open_browser=not no_browser)


def register(app: typer.Typer) -> None:
    app.command("review")(review)
