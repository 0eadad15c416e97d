"""One ``Settings`` object: embedded defaults, a TOML file, then ``WORKSPACE_*`` variables.

Precedence, lowest first: built-in defaults < the TOML file named by
``WORKSPACE_CONFIG`` (or passed to ``Settings.load``) < environment variables
< explicit keyword overrides (command-line flags). Everything that depends on
``home`` (socket, database, store) is derived from it unless set on its own,
so one variable moves a whole installation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from workspace.errors import InvalidInput
from workspace.units import parse_duration, parse_size

DEFAULT_HOME = Path("~/.local/share/workspace")
SOCKET_NAME = "ws.sock"

Seconds = Annotated[int, BeforeValidator(parse_duration)]
"""A duration: seconds, or ``30m``, ``24h``, ``7d``, ``2w``."""
Bytes = Annotated[int, BeforeValidator(parse_size)]
"""A size: bytes, or ``512M``, ``10GiB`` (binary units)."""


class RetentionRule(BaseModel):
    """Keep the newest ``keep_last`` versions of the datasets matching ``pattern``.

    ``older_than`` (optional) limits pruning to versions at least that old.
    Tagged versions and versions checked out in a workspace are always kept.
    """

    model_config = ConfigDict(extra="forbid")

    pattern: str
    keep_last: PositiveInt
    older_than: Seconds | None = None

    @field_validator("pattern")
    @classmethod
    def _one_trailing_star(cls, value: str) -> str:
        if not value or "*" in value[:-1]:
            raise ValueError("a pattern is a dataset name or a prefix ending in one '*'")
        return value


class Settings(BaseSettings):
    """Daemon and client configuration; see docs/configuration.md for each field."""

    model_config = SettingsConfigDict(env_prefix="WORKSPACE_", extra="forbid")

    home: Path = DEFAULT_HOME
    socket: Path | None = None
    database_url: str | None = None
    store: Path | None = None
    mode: Literal["single", "service"] = "single"
    tcp: str | None = None
    link_mode: Literal["auto", "hardlink", "copy"] = "auto"
    admin: str | None = None
    auto_register_role: str | None = None
    policy_dir: Path | None = None
    log_level: str = "info"
    audit_log_dir: Path | None = None
    audit_checkpoint_every: PositiveInt = 1000
    audit_checkpoint_interval: PositiveFloat = 5.0
    audit_refusal_window: PositiveFloat = 60.0
    login_backoff_base: PositiveFloat = 1.0
    prune_interval: PositiveFloat = 3600.0
    watch: bool = True
    watch_rescan_interval: int = 600
    watch_max_watches: int | None = None
    file_workers: Annotated[int, Field(ge=0, le=64)] | None = None
    max_request_body: PositiveInt = 1024 * 1024
    request_header_timeout: PositiveFloat = 10.0
    request_body_timeout: PositiveFloat = 10.0
    protected_aliases: list[str] = ["production"]
    lock_on_unlock: bool = False
    gc_grace: Seconds = 86400
    retention: list[RetentionRule] = []
    min_free: Bytes = 0
    scrub_interval: Seconds = 86400
    scrub_period: Seconds = 30 * 86400
    acl_max_entries: PositiveInt = 500
    acl_batch_size: PositiveInt = 1000
    acl_poll_interval: PositiveFloat = 0.5
    acl_refresh_interval: PositiveFloat = 60.0
    remote_concurrency: PositiveInt = 8
    remote_retries: int = 10
    remote_retry_timeout: PositiveFloat = 120.0
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_allow_http: bool = False
    dashboard: bool = True
    dashboard_session_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 480
    metrics_from_localhost: bool = False
    metrics_cache_seconds: Annotated[float, Field(ge=0)] = 15.0

    @field_validator("home", "socket", "store", "policy_dir", "audit_log_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return None if value is None else Path(os.path.expanduser(value)).absolute()

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if self.socket is None:
            self.socket = self.home / SOCKET_NAME
        if self.store is None:
            self.store = self.home / "store"
        if self.audit_log_dir is None:
            self.audit_log_dir = self.home / "audit"
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.home / 'workspace.db'}"
        if self.tcp is not None:
            parse_tcp(self.tcp)
        return self

    @property
    def socket_path(self) -> Path:
        assert self.socket is not None  # set by _derive_paths
        return self.socket

    @property
    def store_path(self) -> Path:
        assert self.store is not None
        return self.store

    @property
    def audit_log_path(self) -> Path:
        """Where audit checkpoints are written: outside the database, 0700."""
        assert self.audit_log_dir is not None
        return self.audit_log_dir

    @property
    def db_url(self) -> str:
        assert self.database_url is not None
        return self.database_url

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Settings:
        """Settings from the TOML file (if any), the environment, then ``overrides``."""
        path = config_file or _env_config_file()
        if path is not None and not path.is_file():
            raise InvalidInput(
                f"config file {path} does not exist",
                hint="fix WORKSPACE_CONFIG or --config, or remove it to use the defaults",
            )
        given = {key: value for key, value in overrides.items() if value is not None}
        cls._toml_file = path
        try:
            return cls(**given)
        finally:
            cls._toml_file = None  # a later plain Settings() must not inherit this file

    _toml_file: ClassVar[Path | None] = None
    """The file ``load`` reads, set only while it builds one Settings (pydantic-settings
    asks the class, not the instance, for its sources)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = cls._toml_file
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def _env_config_file() -> Path | None:
    value = os.environ.get("WORKSPACE_CONFIG")
    return Path(value).expanduser() if value else None


def parse_tcp(value: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port), with an error that says what shape is expected."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(
            f"tcp address {value!r} is not HOST:PORT", hint="for example 127.0.0.1:8470"
        )
    return host.strip("[]"), int(port)
