"""The policy directory: ``model.conf`` and ``policy.csv``, read and validated as one.

A file is accepted only whole: every line of ``policy.csv`` must be a valid
rule, and the model must parse, keep the shape workspace indexes by, and
evaluate a request over the file's rules. Anything less raises
``InvalidInput`` naming the file (and line), and the caller keeps the old
policy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from workspace.errors import InvalidInput
from workspace.policy import engine
from workspace.policy.rules import Rule

MODEL_FILE = "model.conf"
POLICY_FILE = "policy.csv"
POLICY_FILES = (MODEL_FILE, POLICY_FILE)
MAX_FILE_BYTES = 16 * 1024 * 1024
_SOURCE_TREE_POLICIES = Path(__file__).resolve().parent.parent.parent / "policies"


@dataclass(frozen=True, slots=True)
class PolicyFiles:
    """The validated content of a policy directory, and who owns each file."""

    directory: Path
    model: str
    rules: tuple[Rule, ...]
    owners: dict[str, int]
    """File name -> uid of its owner (for the audit event of a change)."""
    mtime: float
    """The newest modification time of the two files (seconds since the epoch)."""


def default_policy_dir() -> Path:
    """The shipped defaults: ``workspace.policies`` when installed, else ``../policies``."""
    try:
        from importlib.resources import files

        found = Path(str(files("workspace.policies")))
        if (found / MODEL_FILE).is_file():
            return found
    except ModuleNotFoundError:
        pass
    return _SOURCE_TREE_POLICIES


def read_policy_dir(directory: Path) -> PolicyFiles:
    """Read, parse and validate both files; raise ``InvalidInput`` if either is unusable."""
    texts: dict[str, str] = {}
    owners: dict[str, int] = {}
    mtime = 0.0
    for name in POLICY_FILES:
        texts[name], stat = _read(directory / name)
        owners[name] = stat.st_uid
        mtime = max(mtime, stat.st_mtime)
    rules = parse_policy_csv(texts[POLICY_FILE])
    validate_model(texts[MODEL_FILE], rules)
    return PolicyFiles(directory, texts[MODEL_FILE], rules, owners, mtime)


def parse_policy_csv(text: str, *, source: str = "file") -> tuple[Rule, ...]:
    """Rules from ``policy.csv`` text, in order, without duplicates; ``#`` starts a comment."""
    found: dict[Rule, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            rule = Rule.parse([field.strip() for field in stripped.split(",")], source=source)
        except InvalidInput as exc:
            raise InvalidInput(
                f"{POLICY_FILE} line {number}: {exc.message}", hint=exc.hint
            ) from exc
        found.setdefault(rule)
    return tuple(found)


def validate_model(text: str, rules: tuple[Rule, ...]) -> None:
    try:
        engine.check_model(text)
        engine.probe(
            text,
            [r.values for r in rules if r.ptype == "p"],
            [r.values for r in rules if r.ptype == "g"],
        )
    except InvalidInput as exc:
        raise InvalidInput(f"{MODEL_FILE}: {exc.message}", hint=exc.hint) from exc


def _read(path: Path) -> tuple[str, os.stat_result]:
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {path}: {exc.strerror}",
            hint="restore the file; the old policy stays in force",
        ) from exc
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(
            f"{path} is larger than {MAX_FILE_BYTES} bytes", hint="the old policy stays in force"
        )
    try:
        return data.decode("utf-8"), stat
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path} is not UTF-8 text", hint="the old policy stays in force"
        ) from exc
