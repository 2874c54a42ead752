"""Run the review app on 127.0.0.1: choose the port, print the URL, open a browser."""

import errno
import os
import socket
import sys
import threading
import webbrowser
from pathlib import Path

from dataprep.errors import InputError

HOST = "127.0.0.1"  # never anything else: the page can change the store
DEFAULT_PORT = 8765


def bind_socket(port: int | None) -> socket.socket:
    """A listening socket on 127.0.0.1.

    `None` means the default port, or any free one when it is taken; 0 means any free
    port; another number means that port, and an InputError naming the fix when taken.
    """
    wanted = DEFAULT_PORT if port is None else port
    if not 0 <= wanted <= 65535:
        raise InputError(
            f"--port {wanted} is not a port number: use 1-65535, or 0 for any free port"
        )
    try:
        return _listen(wanted)
    except OSError as exc:
        if port is None and exc.errno == errno.EADDRINUSE:
            return _listen(0)
        if exc.errno == errno.EADDRINUSE:
            raise InputError(
                f"port {wanted} on {HOST} is in use: "
                "pick another with --port, or --port 0 for a free one"
            ) from None
        raise InputError(
            f"cannot listen on {HOST}:{wanted} ({exc.strerror}): try --port 0"
        ) from None


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
        sock.listen(128)  # connections made before uvicorn starts wait in the backlog
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _open_browser(url: str) -> bool:
    """Open `url` in a browser soon; False when there is no display to show one on.

    Without a display Python's `webbrowser` would start a text browser in this very
    terminal, fighting the server for it, so we do not try.
    """
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    threading.Timer(0.3, webbrowser.open, args=(url,)).start()
    return True


def url_of(sock: socket.socket) -> str:
    return f"http://{HOST}:{sock.getsockname()[1]}/"


def serve(out_dir: Path, port: int | None = None, open_browser: bool = True) -> None:
    """Serve the review page over `out_dir`'s store until interrupted (Ctrl+C)."""
    import uvicorn

    from dataprep.review.app import create_app

    app = create_app(out_dir)
    sock = bind_socket(port)
    url = url_of(sock)
    print(url, flush=True)
    if open_browser and not _open_browser(url):
        print("No graphical display: open the URL above in a browser.", file=sys.stderr)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
