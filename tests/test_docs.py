"""The documentation keeps up with the code: every promise in docs/ is checked here.

Each test enumerates what the code has (``Settings`` fields, the commands and
options of the Typer app, the error classes, the audit actions, the routes of
``create_app``) and fails naming what to write where. So whoever adds a
setting, command, option, error class, audit action or route documents it in
the same change, and whoever removes one removes its documentation. No daemon
is started; everything runs in process in well under a second.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from workspace import errors
from workspace.audit import Action
from workspace.cli.app import app
from workspace.config import Settings

ROOT = Path(__file__).resolve().parents[1]
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
COMMAND_HEADING = re.compile(r"^`ws ([a-z0-9][a-z0-9 -]*)`$")
CELL_SPLIT = re.compile(r"(?<!\\)\|")
ROUTE_MENTION = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


# --- reading markdown ---------------------------------------------------------------------------


def _read(relpath: str) -> str:
    return (ROOT / relpath).read_text(encoding="utf-8")


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading title, body up to the next heading), ignoring `#` lines in code fences."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            sections.append((match.group(2), []))
        else:
            sections[-1][1].append(line)
    return [(title, "\n".join(body)) for title, body in sections]


def _section(relpath: str, title: str) -> str:
    found = [body for heading, body in _sections(_read(relpath)) if heading == title]
    assert found, f"{relpath} has no section headed {title!r}"
    return found[0]


def _table_rows(text: str) -> list[list[str]]:
    """The cells of every markdown table row in ``text`` (separator rows left out)."""
    rows = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("|") or set(stripped) <= set("|-: "):
            continue
        rows.append([cell.strip() for cell in CELL_SPLIT.split(stripped.strip("|"))])
    return rows


def _code(cell: str) -> str | None:
    """``x`` for a cell that is exactly one code span `` `x` ``."""
    match = re.fullmatch(r"`([^`]+)`", cell.strip())
    return match.group(1) if match else None


# --- configuration ------------------------------------------------------------------------------


def _settings_rows() -> dict[str, list[str]]:
    rows = _table_rows(_section("docs/configuration.md", "Fields"))
    return {name: row for row in rows if (name := _code(row[0])) is not None}


def _as_documented(default: Any) -> str:
    """A default as the docs write it: TOML spelling for booleans, the plain text otherwise."""
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)


def test_every_setting_is_documented_with_its_variable_and_default() -> None:
    rows = _settings_rows()
    fields = Settings.model_fields
    missing = sorted(set(fields) - set(rows))
    assert not missing, f"docs/configuration.md, table 'Fields': add a row for {missing}"
    stale = sorted(set(rows) - set(fields))
    assert not stale, f"docs/configuration.md documents settings that do not exist: {stale}"
    for name, field in fields.items():
        variable, default = rows[name][1], rows[name][2]
        assert f"`WORKSPACE_{name.upper()}`" in variable, f"{name}: env var column"
        if field.default is not None:
            expected = f"`{_as_documented(field.default)}`"
            assert expected in default, f"{name}: the default is {expected}, docs say {default}"


def test_the_example_config_file_is_valid(tmp_path: Path) -> None:
    examples = re.findall(r"```toml\n(.*?)```", _read("docs/configuration.md"), re.S)
    assert examples, "docs/configuration.md should show an example config file"
    for example in examples:
        Settings.model_validate(tomllib.loads(example))


# --- command line -------------------------------------------------------------------------------


def _root_command() -> Any:
    """The click command Typer builds (duck-typed: Typer may bring its own click)."""
    return typer.main.get_command(app)


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every visible command as `name` or `group name`, subcommands included."""
    for name, command in sorted(group.commands.items()):
        if getattr(command, "hidden", False):
            continue
        path = (*prefix, name)
        yield " ".join(path), command
        if getattr(command, "commands", None):
            yield from _commands(command, path)


def _command_sections() -> dict[str, str]:
    """Sections of docs/cli.md headed `` `ws NAME` ``, by NAME."""
    found: dict[str, str] = {}
    for title, body in _sections(_read("docs/cli.md")):
        match = COMMAND_HEADING.match(title)
        if match:
            found[match.group(1)] = body
    return found


def _long_options(command: Any) -> list[str]:
    return [
        name
        for param in command.params
        if param.param_type_name == "option" and not getattr(param, "hidden", False)
        for name in [*param.opts, *param.secondary_opts]
        if name.startswith("--") and name != "--help"
    ]


def _mentions(text: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_every_command_has_a_section_in_cli_md() -> None:
    commands = {name for name, _ in _commands(_root_command())}
    documented = set(_command_sections())
    missing = sorted(commands - documented)
    assert not missing, f"docs/cli.md: add a section headed ### `ws NAME` for {missing}"
    stale = sorted(documented - commands)
    assert not stale, f"docs/cli.md documents commands that do not exist: {stale}"


def test_every_option_is_documented_in_its_commands_section() -> None:
    sections = _command_sections()
    sections[""] = _section("docs/cli.md", "Global options")
    undocumented = [
        f"ws {name} {option}".replace("ws  ", "ws ")
        for name, command in [("", _root_command()), *_commands(_root_command())]
        for option in _long_options(command)
        if name in sections and not _mentions(sections[name], option)
    ]
    assert not undocumented, f"docs/cli.md: document these options: {undocumented}"


def test_every_audit_action_is_listed_for_ws_audit() -> None:
    section = _command_sections()["audit"]
    listed = {code for row in _table_rows(section) if (code := _code(row[0])) and ":" in code}
    missing = sorted(str(action) for action in Action if str(action) not in listed)
    assert not missing, f"docs/cli.md, `ws audit` actions table: add {missing}"
    stale = sorted(listed - {str(action) for action in Action})
    assert not stale, f"docs/cli.md lists audit actions that do not exist: {stale}"


# --- errors and exit codes ----------------------------------------------------------------------


def _error_classes() -> list[type[errors.WorkspaceError]]:
    return [
        cls
        for cls in vars(errors).values()
        if inspect.isclass(cls) and issubclass(cls, errors.WorkspaceError)
    ]


def test_exit_code_table_matches_the_error_classes() -> None:
    documented: dict[str, tuple[int, str | None]] = {}
    for row in _table_rows(_section("docs/cli.md", "Exit codes")):
        if row[0].isdigit():
            for name in re.findall(r"`(\w+)`", row[1]):
                documented[name] = (int(row[0]), _code(row[2]))
    expected = {cls.__name__: (cls.exit_code, cls.code) for cls in _error_classes()}
    assert documented == expected, "docs/cli.md 'Exit codes' disagrees with workspace/errors.py"


def test_usage_errors_exit_2_as_documented(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _table_rows(_section("docs/cli.md", "Exit codes"))
    assert any(row[0] == "2" and "usage" in row[1] for row in rows)
    with pytest.raises(SystemExit) as exited:
        _root_command().main(args=["no-such-command"], prog_name="ws")
    assert exited.value.code == 2
    assert "No such command" in capsys.readouterr().err


def test_api_error_table_matches_the_error_classes() -> None:
    rows = {_code(row[0]): row for row in _table_rows(_section("docs/api.md", "Errors"))}
    for cls in _error_classes():
        assert cls.code in rows, f"docs/api.md 'Errors': add a row for `{cls.code}`"
        http, exit_code = rows[cls.code][1], rows[cls.code][2]
        assert exit_code == str(cls.exit_code), f"{cls.code}: exit {cls.exit_code}"
        if http[:1].isdigit():  # a code only the client raises says so instead
            assert http.split()[0] == str(cls.http_status), f"{cls.code}: {cls.http_status}"


# --- HTTP API -----------------------------------------------------------------------------------


def _api_routes(home: Path) -> set[str]:
    """`METHOD /path` of every route the daemon serves: the API, /metrics, the dashboard.

    Read through ``api/route_table.py`` (FastAPI 0.16x keeps included routers
    unflattened in ``app.routes``, and mounted apps are walked into), on the app
    as the daemon serves it: the API with the dashboard mounted.
    """
    from tests.support.apps import route_listing_app
    from workspace.api.route_table import served_routes

    app = route_listing_app(Settings(home=home))
    return {f"{method} {route.path}" for route in served_routes(app.routes)
            for method in route.methods if method not in ("HEAD", "OPTIONS")}


def test_every_route_is_documented_in_api_md(tmp_path: Path) -> None:
    routes = _api_routes(tmp_path)
    mentions = ROUTE_MENTION.findall(_read("docs/api.md"))
    documented = {f"{method} {path}" for method, path in mentions}
    missing = sorted(routes - documented)
    assert not missing, f"docs/api.md: add a row to the route table for {missing}"
    stale = sorted(documented - routes)
    assert not stale, f"docs/api.md mentions routes that do not exist: {stale}"


# --- README -------------------------------------------------------------------------------------


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = [line for line in _read(".ci/run").splitlines() if line.startswith("pip install")]
    assert len(ci) == 1, ".ci/run should run one `pip install ... && ...` line"
    readme = _read("README.md")
    assert f"\n{ci[0]}\n" in readme, "README.md's test command must be exactly .ci/run's"
    assert "\npip install . && ws serve\n" in readme


@pytest.mark.parametrize(
    "doc", ["README.md", "docs/cli.md", "docs/configuration.md", "docs/api.md", "docs/design.md",
            "docs/python.md", "docs/dashboard.md"]
)
def test_relative_links_resolve(doc: str) -> None:
    base = (ROOT / doc).parent
    targets = [link.split("#")[0] for link in LINK.findall(_read(doc))]
    broken = [t for t in targets if t and "://" not in t and not (base / t).exists()]
    assert not broken, f"{doc} links to missing files: {broken}"
