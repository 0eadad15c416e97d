"""What ``policy/engine.py`` relies on inside pycasbin (pinned in pyproject.toml).

The engine hands Casbin only the candidate rules of each request by
assigning ``enforcer.model["p"]["p"].policy``, bounds the role manager's
per-domain cache through ``get_role_manager().rm_map``, reads the decision
and its rule from ``enforce_ex``, and checks a model's shape through the
parsed assertions' ``tokens`` and ``value``. None of that is a documented
API: if a pycasbin upgrade moves it, these tests fail and say what to look
at, rather than the engine silently deciding on the wrong rules.
"""

from __future__ import annotations

from importlib.metadata import version

import casbin  # type: ignore[import-untyped]
from casbin.model import Model  # type: ignore[import-untyped]
from casbin.util import key_match  # type: ignore[import-untyped]

from workspace.policy import MODEL_FILE, default_policy_dir
from workspace.policy.engine import Engine

MOVED = "pycasbin {version} moved {what}: policy/engine.py relies on it; adapt it and the pin"
RULES = [("reader", "*", "read", "allow")]
GRANTS = [("alice", "reader", "vision/*")]


def _moved(what: str) -> str:
    return MOVED.format(version=version("pycasbin"), what=what)


def _model() -> Model:
    model = Model()
    model.load_model_from_text((default_policy_dir() / MODEL_FILE).read_text())
    return model


def _enforcer() -> casbin.Enforcer:
    enforcer = casbin.Enforcer(_model(), enable_log=False)
    enforcer.add_named_domain_matching_func("g", key_match)
    enforcer.add_policies([list(r) for r in RULES])
    enforcer.add_grouping_policies([list(g) for g in GRANTS])
    return enforcer


def test_the_parsed_model_exposes_tokens_and_the_matcher_text() -> None:
    model = _model()
    assert [t.strip() for t in model["r"]["r"].tokens] == ["r_sub", "r_obj", "r_act"], (
        _moved("Assertion.tokens"))
    assert isinstance(model["m"]["m"].value, str) and "keyMatch" in model["m"]["m"].value, (
        _moved("Assertion.value (the matcher text)"))


def test_enforce_ex_names_the_deciding_rule() -> None:
    allowed, rule = _enforcer().enforce_ex("alice", "vision/cats", "read")
    assert allowed is True and list(rule) == list(RULES[0]), _moved("enforce_ex's answer")


def test_the_rule_list_is_read_at_each_enforce() -> None:
    """The engine's per-request candidate lists work only if Casbin reads this list live."""
    enforcer = _enforcer()
    rules = enforcer.model["p"]["p"]
    assert isinstance(rules.policy, list), _moved('model["p"]["p"].policy')
    kept = rules.policy
    rules.policy = []
    assert enforcer.enforce_ex("alice", "vision/cats", "read")[0] is False, (
        _moved('model["p"]["p"].policy (no longer what enforce evaluates)'))
    rules.policy = kept
    assert enforcer.enforce_ex("alice", "vision/cats", "read")[0] is True


def test_the_role_manager_caches_per_domain_and_may_be_cleared() -> None:
    enforcer = _enforcer()
    domains = enforcer.get_role_manager().rm_map
    assert isinstance(domains, dict), _moved("the role manager's rm_map")
    for index in range(5):
        enforcer.enforce_ex("alice", f"vision/d{index}", "read")
    assert len(domains) >= 5, _moved("rm_map (no longer one entry per domain checked)")
    domains.clear()
    assert enforcer.enforce_ex("alice", "vision/d0", "read")[0] is True, (
        _moved("rm_map (clearing it broke later decisions)"))


def test_the_engine_built_on_these_decides() -> None:
    engine = Engine((default_policy_dir() / MODEL_FILE).read_text(), RULES, GRANTS)
    assert engine.enforce("alice", "vision/cats", "read") == (True, list(RULES[0]))
    assert engine.enforce("alice", "text/notes", "read") == (False, [])
