"""The local review web app (`dataprep review`): accept, reject, edit and flag pairs.

Modules: `queue` (rows, filters, counts), `actions` (what an action does to a Review),
`app` (the Starlette application, `create_app`), `server` (port choice and `serve`).
Importing this package is cheap; the web stack is imported by `app` and `server` only.
"""
