"""Role-based access control with Casbin (the only package that imports ``casbin``).

Subjects are users (``alice``), Unix groups (``group:ml-team``) and roles.
Roles are granted on dataset-name patterns (``g, alice, writer, vision/*``)
and inherit (reader < writer < maintainer < admin). Admin-only operations are
resources too (``admin:users``, ``admin:policy``, ``admin:audit``, checked
with action ``admin``). Deny rules win over allow; nothing is allowed unless
a rule allows it. The model and the default rules live in ``policies/``; the
rules in force live in the database.
"""

from workspace.policy.authorizer import Authorizer, Decision
from workspace.policy.changes import ADMIN_ROLE
from workspace.policy.files import (
    MODEL_FILE,
    POLICY_FILE,
    POLICY_FILES,
    PolicyFiles,
    default_policy_dir,
    read_policy_dir,
)
from workspace.policy.rules import Rule
from workspace.policy.values import ACTIONS, EFFECTS

__all__ = [
    "ACTIONS",
    "ADMIN_ROLE",
    "EFFECTS",
    "MODEL_FILE",
    "POLICY_FILE",
    "POLICY_FILES",
    "Authorizer",
    "Decision",
    "PolicyFiles",
    "Rule",
    "default_policy_dir",
    "read_policy_dir",
]
