"""The one door to the daemon, shared by the `ws` CLI and the Python API.

``connect()`` finds the daemon (the local Unix socket, or a remote server with
a token) and returns a ``DaemonClient``; everything that can go wrong on the
wire becomes a ``WorkspaceError`` there. Also here, because both the CLI and
the Python API write them as the user's own process: pointer files and
``.gitignore`` lines (``pointers``), and the path helpers they need.

Nothing here imports typer or rich, and httpx only when a client is built, so
``import workspace`` stays cheap.
"""
