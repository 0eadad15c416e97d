"""The one place that talks to Casbin (``pycasbin``, imported as ``casbin``).

An ``Engine`` is a Casbin enforcer over a *small* rule set: the
``Authorizer`` gives each subject its own engine holding only the rules that
can apply to it, because a plain enforcer evaluates its matcher once per rule
(tens of milliseconds at 10,000 rules). Per request, the engine then hands
Casbin only the rules whose action and pattern match, which the matcher's
first two tests would otherwise reject one by one (pycasbin evaluates each
rule with ``simpleeval``, ~10 us apiece). That is why the model must keep the
request and rule shapes, and start its matcher with those two tests
(``check_model``); it may add further ``&&`` conditions after them.

pycasbin enforcers are not safe to share between threads (the role manager
fills a per-domain cache on first use), and evaluating a matcher parses it
with ``ast`` (through ``simpleeval``), which Python 3.11 cannot do in two
threads at once: "AST constructor recursion depth mismatch" (CPython
gh-106905; ``tests/policy/test_cache.py`` met it, one check in a few thousand).
So every Casbin call in the process holds one lock; a check is tens of
microseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import casbin  # type: ignore[import-untyped]
from casbin.model import Model  # type: ignore[import-untyped]
from casbin.util import key_match  # type: ignore[import-untyped]

from workspace.errors import InvalidInput, WorkspaceError
from workspace.policy.values import ACTIONS, matches

REQUIRED_SHAPE = {
    ("r", "r"): ["r_sub", "r_obj", "r_act"],
    ("p", "p"): ["p_sub", "p_obj", "p_act", "p_eft"],
    ("g", "g"): ["_", "_", "_"],
}
_CASBIN = threading.Lock()
"""Held around every call into Casbin (see the module docstring)."""
MAX_DOMAINS = 256
"""pycasbin's domain role manager caches one role graph per resource ever checked; bounded."""
MATCHER_PREFIX = '(p_act==r_act||p_act=="*")&&keyMatch(r_obj,p_obj)&&'
_SHAPE_HINT = (
    "keep 'r = sub, obj, act', 'p = sub, obj, act, eft', 'g = _, _, _' and a matcher 'm' "
    "that starts with '(p.act == r.act || p.act == \"*\") && keyMatch(r.obj, p.obj) && '; "
    "the old policy stays in force"
)


class Engine:
    """A Casbin enforcer for one subject's rules; ``enforce`` says which rule decided."""

    def __init__(
        self,
        model_text: str,
        p_rules: Iterable[tuple[str, ...]],
        g_rules: Iterable[tuple[str, ...]],
    ) -> None:
        p_list, g_list = [list(r) for r in p_rules], [list(r) for r in g_rules]
        with _CASBIN:
            enforcer = casbin.Enforcer(_parse(model_text), enable_log=False)
            enforcer.add_named_domain_matching_func("g", key_match)
            if p_list:
                enforcer.add_policies(p_list)
            if g_list:
                enforcer.add_grouping_policies(g_list)
        self._enforcer = enforcer
        self._rules = enforcer.model["p"]["p"]
        self._domains: dict[str, object] = enforcer.get_role_manager().rm_map
        self._by_action = {
            action: [rule for rule in p_list if rule[2] in (action, "*")] for action in ACTIONS
        }

    def enforce(self, subject: str, resource: str, action: str) -> tuple[bool, list[str]]:
        """``(allowed, the rule that decided or [])``: pycasbin's ``enforce_ex``.

        Casbin sees only the rules that pass the matcher's cheap tests; with
        none, nothing can allow and the answer is the default deny.
        """
        candidates = [r for r in self._by_action.get(action, ()) if matches(resource, r[1])]
        if not candidates:
            return False, []
        with _CASBIN:
            self._rules.policy = candidates
            try:
                allowed, rule = self._enforcer.enforce_ex(subject, resource, action)
                if len(self._domains) > MAX_DOMAINS:
                    self._domains.clear()  # the role manager rebuilds what it needs
            except Exception as exc:  # a model that passed the probe and still fails
                raise WorkspaceError(
                    f"the policy model failed on ({subject}, {resource}, {action}): {exc}",
                    hint="fix model.conf in the policy directory; the request was denied",
                ) from exc
        return bool(allowed), [str(v) for v in rule]


def check_model(text: str) -> None:
    """Refuse a model Casbin cannot parse or whose shape workspace cannot index."""
    with _CASBIN:
        model = _parse(text)
    for (section, key), tokens in REQUIRED_SHAPE.items():
        assertion = (model[section] or {}).get(key)
        if assertion is None or [t.strip() for t in assertion.tokens] != tokens:
            raise InvalidInput(
                f"the model's [{section}] '{key}' is missing or reshaped", hint=_SHAPE_HINT
            )
    if "m" not in (model["m"] or {}) or "e" not in (model["e"] or {}):
        raise InvalidInput("the model has no matcher or no effect", hint=_SHAPE_HINT)
    matcher = "".join(model["m"]["m"].value.split())
    rest = matcher.removeprefix(MATCHER_PREFIX)
    if rest == matcher or _has_top_level_or(rest):
        raise InvalidInput(
            "the model's matcher does not start with the required tests", hint=_SHAPE_HINT
        )


def _has_top_level_or(expression: str) -> bool:
    """An ``||`` outside parentheses would let a rule match without the required tests."""
    depth = 0
    for index, char in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and expression.startswith("||", index):
            return True
    return False


def probe(
    model_text: str, p_rules: Iterable[tuple[str, ...]], g_rules: Iterable[tuple[str, ...]]
) -> None:
    """Evaluate the model over rules: matcher errors only show when a request runs.

    The probe subject gets an allow and a deny rule of its own, so the
    matcher is evaluated to its end for both effects.
    """
    own = [("probe-user", "probe/*", "read", "allow"), ("probe-user", "probe/*", "write", "deny")]
    try:
        engine = Engine(model_text, [*p_rules, *own], g_rules)
        for action in ("read", "write", "maintain"):
            engine.enforce("probe-user", "probe/dataset", action)
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(f"the model does not evaluate: {exc}", hint=_SHAPE_HINT) from exc


def _parse(text: str) -> Model:
    model = Model()
    try:
        model.load_model_from_text(text)
    except Exception as exc:
        raise InvalidInput(f"the model does not parse: {exc}", hint=_SHAPE_HINT) from exc
    return model
