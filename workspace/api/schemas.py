"""Request bodies. Responses are the domain's dataclasses, encoded by ``encode``."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from workspace.datasets.versions import GitInfo


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GitBody(Body):
    commit: str | None = Field(default=None, max_length=64)
    branch: str | None = Field(default=None, max_length=255)
    dirty: bool | None = None

    def info(self) -> GitInfo:
        return GitInfo(self.commit, self.branch, self.dirty)


class RegisterBody(Body):
    path: str = Field(max_length=4096)


class AddBody(Body):
    path: str = Field(max_length=4096)
    dataset: str = Field(max_length=200)
    message: str = Field(max_length=10_000)
    skip_symlinks: bool = False
    git: GitBody | None = None


class CommitBody(Body):
    path: str = Field(max_length=4096)
    message: str = Field(max_length=10_000)
    skip_symlinks: bool = False
    base_version: int | None = Field(default=None, ge=1)
    git: GitBody | None = None


class CheckoutBody(Body):
    path: str = Field(max_length=4096)
    ref: str | None = Field(default=None, max_length=400)
    digest: str | None = Field(default=None, max_length=100)
    force: bool = False


class GetBody(Body):
    ref: str = Field(max_length=400)
    path: str = Field(max_length=4096)
    digest: str | None = Field(default=None, max_length=100)
    force: bool = False


class TagBody(Body):
    ref: str = Field(max_length=400)
    tag: str = Field(max_length=100)


def encode(value: Any) -> Any:
    """Dataclasses, datetimes and lists of them, as JSON-ready values."""
    return jsonable_encoder(value)
