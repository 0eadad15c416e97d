"""The store over time: garbage collection, retention (prune, rm), fsck and scrub,
usage (du) and quotas. Services in the style of ``datasets/`` and ``workspaces/``:
they take a session or the service context, record their audit events where the
state changes, and never import fastapi or typer.
"""
