"""The `ws` program's entry point, and the one error wrapper.

``main()`` is the only place where a ``WorkspaceError`` becomes output and an
exit code (docs/cli.md lists them); commands just raise. Usage errors are
Typer's and exit 2.

Start-up is what people feel (`ws status` runs all the time), so this module
imports next to nothing: `ws --version` and `ws status` in their plain forms
run through ``fast.py`` without Typer, rich, httpx or pydantic; anything
else (help, other commands, an unusual argument) builds the Typer app
(``app.py``) with just the command asked for.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from workspace.cli import fast
from workspace.errors import WorkspaceError

_UNUSED_OPTIONAL_MODULES = ("httpx._main", "trio")
"""Optional imports a client command never uses: httpx loads its own CLI (click, rich,
pygments) and httpcore probes for trio when they are installed. Both handle their absence
(ImportError); marking them absent spares ~100 ms of every command that loads httpx. Only
in ``main``, and not for `serve`, so that no other process is affected."""


def main(argv: Sequence[str] | None = None) -> None:
    """Run `ws`; a WorkspaceError becomes `error:`/`hint:` lines and its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "serve" not in args:
        for name in _UNUSED_OPTIONAL_MODULES:
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    try:
        if not fast.run(args):
            _run_app(args)
    except WorkspaceError as exc:
        _fail(exc, args)
    except OSError as exc:  # a file-system error no command turned into ours: still no traceback
        _fail(os_error(exc), args)


def _run_app(args: list[str]) -> None:
    import typer

    from workspace.cli.app import build

    typer.main.get_command(build(args)).main(args=args, prog_name="ws")


def _fail(error: WorkspaceError, args: Sequence[str]) -> None:
    from workspace.cli.output import print_error

    print_error(error, as_json=_wants_json(args))
    sys.exit(error.exit_code)


def os_error(exc: OSError) -> WorkspaceError:
    """An OSError as one of our errors: exit 4 for a permission problem, else 3 or 2."""
    from workspace.client.paths import unresolvable

    name = exc.filename if isinstance(exc.filename, str) else ""
    return unresolvable(name or "a path", exc)


def _wants_json(args: Sequence[str]) -> bool:
    """Whether --json was given (before any `--`), so errors come out as JSON too."""
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


if __name__ == "__main__":
    main()
