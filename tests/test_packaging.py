"""The explicit package list in pyproject.toml ships every package of the tree.

It is explicit because migrations/ and policies/ ship as workspace.migrations
and workspace.policies; a package missing from the list would be missing from
a plain `pip install .` and nowhere else.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

REPO = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_for_installation() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {f"workspace.{p}" for p in find_packages(REPO / "workspace")} | {"workspace"}
    mapped = {f"{name}.{sub}" for name, where in config["package-dir"].items()
              for sub in find_packages(REPO / where)} | set(config["package-dir"])
    assert found | mapped == listed
