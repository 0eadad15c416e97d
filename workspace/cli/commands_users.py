"""Accounts: `ws user ...`, `ws token ...`, and `ws login`/`ws logout` for remote daemons.

Managing users is an admin's job (the daemon decides, `ws` only asks);
changing your own password and your own API tokens is everyone's. Secrets
cross this module in one direction only: a password is read without echo and
sent, a login token goes to the 0600 credentials file and never to the
screen, and an API token is printed exactly once, when it is created.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from workspace.cli.output import print_json, say, table, warn
from workspace.cli.state import JsonFlag, state
from workspace.cli.times import short_time
from workspace.client.daemon import DaemonClient, Json, require
from workspace.errors import AuthenticationRequired, InvalidInput, WorkspaceError

if TYPE_CHECKING:
    from workspace.client.credentials import Remote

user_app = typer.Typer(
    help="Manage accounts: people (mapped to Unix users) and robots (API tokens only).",
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="Manage API tokens: long-lived secrets for robots and scripts (WORKSPACE_TOKEN).",
    no_args_is_help=True,
)

UserArg = Annotated[str, typer.Argument(metavar="NAME", help="The account's name.")]
ServerOpt = Annotated[
    str | None,
    typer.Option(
        "--server",
        metavar="URL",
        help="The daemon's URL, e.g. http://host:8470; default: the global --server "
        "or $WORKSPACE_SERVER.",
    ),
]
_DURATION = re.compile(r"(\d+)\s*([dwy]?)")
_DAYS_PER_UNIT = {"": 1, "d": 1, "w": 7, "y": 365}


# --- users --------------------------------------------------------------------------------------


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: UserArg,
    robot: Annotated[
        bool,
        typer.Option("--robot", help="No Unix account: it authenticates with API tokens only."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add an account. A person's NAME must be a Unix user on the daemon's machine."""
    with state(ctx).client() as client:
        answer = client.post("/v1/users", {"name": name, "robot": robot})
    if as_json:
        print_json(answer)
    elif robot:
        say(f"added robot {name}: give it a token with `ws token create {name} --name LABEL`")
    else:
        uid = (answer.get("user") or {}).get("uid")
        say(f"added user {name}" + (f" (Unix uid {uid})" if uid is not None else ""))


@user_app.command("list")
def user_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the accounts: kind, Unix uid, whether disabled, and when added."""
    with state(ctx).client() as client:
        answer = client.get("/v1/users")
    if as_json:
        print_json(answer)
        return
    rows = [_user_row(user) for user in answer.get("users") or []]
    table(("Name", "Kind", "Unix uid", "State", "Created"), rows)


@user_app.command("disable")
def user_disable(ctx: typer.Context, name: UserArg, as_json: JsonFlag = False) -> None:
    """Refuse every request of NAME from now on (the account and its history stay)."""
    _set_disabled(ctx, name, "disable", as_json)


@user_app.command("enable")
def user_enable(ctx: typer.Context, name: UserArg, as_json: JsonFlag = False) -> None:
    """Let a disabled account in again."""
    _set_disabled(ctx, name, "enable", as_json)


@user_app.command("unlock")
def user_unlock(ctx: typer.Context, name: UserArg, as_json: JsonFlag = False) -> None:
    """Let NAME try passwords again: forget its failed logins from every address.

    For a name locked by failed logins, or one that must wait; the failed logins
    stay in the audit log (`ws audit --action account:login:failure --user NAME`).
    """
    with state(ctx).client() as client:
        answer = client.post("/v1/users/unlock", {"name": name})
    if as_json:
        print_json(answer)
    elif answer.get("unlocked"):
        addresses = ", ".join(str(a) for a in answer.get("addresses") or []) or "-"
        say(f"unlocked {name}: forgot its failed logins (from: {addresses})")
    else:
        say(f"{name} had no failed logins to forget")


@user_app.command("passwd")
def user_passwd(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="Whose password; default: yours.")
    ] = None,
) -> None:
    """Set a password (asked twice, not echoed), for `ws login` from other machines.

    When standard input is not a terminal, the password is read from it: two lines.
    """
    who = name or _me(ctx)
    password = read_password(f"New password for {who}: ", confirm=True)
    with state(ctx).client() as client:
        client.post("/v1/users/password", {"name": who, "password": password})
    say(f"password set for {who}")


def _me(ctx: typer.Context) -> str:
    """Your account's name, as the daemon knows you (Unix peer or token)."""
    with state(ctx).client() as client:
        return str(require(client.get("/v1/health"), "user"))


def _set_disabled(ctx: typer.Context, name: str, verb: str, as_json: bool) -> None:
    with state(ctx).client() as client:
        answer = client.post(f"/v1/users/{verb}", {"name": name})
    if as_json:
        print_json(answer)
    else:
        say(f"{verb}d user {name}")


def _user_row(user: Json) -> list[str]:
    uid = user.get("uid")
    return [
        str(user.get("name")),
        "robot" if user.get("robot") else "person",
        "" if uid is None else str(uid),
        "disabled" if user.get("disabled") else "active",
        short_time(user.get("created_at")),
    ]


# --- login --------------------------------------------------------------------------------------


def login(
    ctx: typer.Context,
    server: ServerOpt = None,
    user: Annotated[
        str | None,
        typer.Option("--user", metavar="NAME", help="Log in as NAME; default: your login name."),
    ] = None,
) -> None:
    """Log in to a remote daemon: your password buys a short-lived token, kept 0600.

    Later commands with `--server URL` (or $WORKSPACE_SERVER) send it. The token
    is never printed. When standard input is not a terminal, the password is read from it.
    """
    from workspace.client import credentials

    url = _server(ctx, server)
    name = user or _login_name()
    _warn_if_cleartext(url)
    password = read_password(f"Password for {name} at {url}: ", confirm=False)
    with DaemonClient(remote=credentials.Remote(url)) as client:
        answer = client.post("/v1/login", {"name": name, "password": password})
    who, expires = str(answer.get("user") or name), answer.get("expires_at")
    path = credentials.save(url, token=str(require(answer, "token")), user=who, expires_at=expires)
    say(f"logged in to {url} as {who} until {short_time(expires)} (token kept in {path})")


def logout(ctx: typer.Context, server: ServerOpt = None) -> None:
    """End your login session on a remote daemon and forget its token here."""
    from workspace.client import credentials

    url = _server(ctx, server)
    stored = credentials.stored(url)
    if stored is None:
        say(f"not logged in to {url}")
        return
    try:
        _end_session(credentials.Remote(url, str(stored["token"])))
    except WorkspaceError as exc:
        until = short_time(stored.get("expires_at")) or "it expires"
        exc.hint = f"the token was forgotten here anyway; the daemon accepts it until {until}"
        raise
    finally:
        credentials.forget(url)
    say(f"logged out of {url}")


def _end_session(remote: Remote) -> None:
    try:
        with DaemonClient(remote=remote) as client:
            client.post("/v1/logout", {})
    except AuthenticationRequired:
        pass  # the session had already ended: expired or revoked


def _server(ctx: typer.Context, option: str | None) -> str:
    from workspace.client.credentials import normalize_server

    url = normalize_server(option) if option else state(ctx).server
    if url is None:
        raise InvalidInput(
            "which server? no URL given",
            hint="give --server URL (e.g. http://host:8470) or set WORKSPACE_SERVER",
        )
    return url


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError) as exc:
        raise InvalidInput("cannot tell your login name", hint="give --user NAME") from exc


def _warn_if_cleartext(url: str) -> None:
    """Plain http is fine on loopback or behind a trusted proxy, but say what it means."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if parts.scheme == "http" and not local:
        warn(
            f"warning: {url} is plain http: your password and token cross the network "
            "unencrypted; prefer https://"
        )


def read_password(prompt: str, *, confirm: bool) -> str:
    """Hidden on a terminal; from standard input (a line each) when it is not one."""
    ask = _hidden if sys.stdin.isatty() else _stdin_line
    password = ask(prompt)
    if confirm and ask("Repeat it: ") != password:
        raise InvalidInput(
            "the two passwords differ; nothing was changed",
            hint="run the command again and type the same password twice",
        )
    return password


def _hidden(prompt: str) -> str:
    return str(typer.prompt(prompt.rstrip(": "), hide_input=True))


def _stdin_line(prompt: str) -> str:
    line = sys.stdin.readline()
    if not line:
        raise InvalidInput(
            f"no password on standard input ({prompt.rstrip(': ')})",
            hint="run it on a terminal, or pipe the password in, one line",
        )
    return line.rstrip("\r\n")


# --- API tokens ---------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    user: Annotated[
        str, typer.Argument(metavar="USER", help="Whose token (yours, or any: admin).")
    ],
    name: Annotated[
        str, typer.Option("--name", metavar="LABEL", help="What it is for, e.g. ci-nightly.")
    ],
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires", metavar="AGE", help="Expire after AGE: 90d, 12w, 1y; default: never."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an API token for USER and show it once: it cannot be shown again."""
    body = {"user": user, "name": name, "expires_days": parse_days(expires) if expires else None}
    with state(ctx).client() as client:
        answer = client.post("/v1/tokens", body)
    if as_json:
        print_json(answer)
    else:
        expiry = answer.get("expires_at")
        until = f"expires {short_time(expiry)}" if expiry else "never expires"
        say(f"created API token {answer.get('id')} ({name}) for {user}, {until}:")
        say(require(answer, "token"))
    warn(
        "warning: store this token now (e.g. in your CI's secrets): it cannot be shown again;"
        " robots send it as WORKSPACE_TOKEN"
    )


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    user: Annotated[
        str | None, typer.Argument(metavar="USER", help="Whose tokens; default: yours.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List API tokens (never their secrets): state, creation, expiry, last use."""
    who = user or _me(ctx)
    with state(ctx).client() as client:
        answer = client.get("/v1/tokens", {"user": who})
    if as_json:
        print_json(answer)
        return
    rows = [_token_row(token) for token in answer.get("tokens") or []]
    table(("ID", "Name", "State", "Created", "Expires", "Last used"), rows, title=who)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token_id: Annotated[
        str, typer.Argument(metavar="ID", help="The token's id (`ws token list`).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Refuse an API token from now on."""
    with state(ctx).client() as client:
        answer = client.post("/v1/tokens/revoke", {"id": token_id})
    if as_json:
        print_json(answer)
        return
    token = answer.get("token") or {}
    say(f"revoked API token {token.get('id', token_id)} ({token.get('name')})")


def parse_days(text: str) -> int:
    """`90d`, `12w`, `1y` or a bare number of days -> days."""
    match = _DURATION.fullmatch(text.strip().lower())
    days = int(match.group(1)) * _DAYS_PER_UNIT[match.group(2)] if match else 0
    if days < 1:
        raise InvalidInput(f"not an age: {text!r}", hint="give days, weeks or years: 90d, 12w, 1y")
    return days


def _token_row(token: Json) -> list[str]:
    return [
        str(token.get("id")),
        str(token.get("name")),
        str(token.get("state")),
        short_time(token.get("created_at")),
        short_time(token.get("expires_at")) if token.get("expires_at") else "never",
        short_time(token.get("last_used_at")) if token.get("last_used_at") else "never",
    ]
