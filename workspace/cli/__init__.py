"""`ws`: the command-line client of the workspace daemon.

The CLI is a thin client: every command is one or a few calls to the daemon's
HTTP API over its Unix socket (docs/api.md). It does on its own only what must
happen as the user's own process: writing pointer files and `.gitignore`
lines, and `ws unlock`'s private copies. Start-up cost matters (people run
`ws status` all the time), so httpx, rich and pydantic are imported only by
the commands that need them.
"""
