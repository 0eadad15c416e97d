"""The closed set of audit actions, shaped ``subject:object:action`` (as warehouse does)."""

from enum import StrEnum


class Action(StrEnum):
    ACCESS_REQUEST_DENY = "access:request:deny"
    ACCESS_USER_REFUSE = "access:user:refuse"
    ACCOUNT_USER_REGISTER = "account:user:register"
    ACCOUNT_USER_CREATE = "account:user:create"
    ACCOUNT_USER_DISABLE = "account:user:disable"
    ACCOUNT_USER_ENABLE = "account:user:enable"
    ACCOUNT_USER_UNLOCK = "account:user:unlock"
    ACCOUNT_PASSWORD_SET = "account:password:set"
    ACCOUNT_LOGIN_SUCCESS = "account:login:success"
    ACCOUNT_LOGIN_FAILURE = "account:login:failure"
    ACCOUNT_TOKEN_CREATE = "account:token:create"
    ACCOUNT_TOKEN_REVOKE = "account:token:revoke"
    AUDIT_CHECKPOINT_RESET = "audit:checkpoint:reset"
    POLICY_ROLE_GRANT = "policy:role:grant"
    POLICY_ROLE_REVOKE = "policy:role:revoke"
    POLICY_FILE_RELOAD = "policy:file:reload"
    POLICY_FILE_REJECT = "policy:file:reject"
    DATASET_NAME_CREATE = "dataset:name:create"
    DATASET_VERSION_COMMIT = "dataset:version:commit"
    DATASET_TAG_CREATE = "dataset:tag:create"
    DATASET_ALIAS_SET = "dataset:alias:set"
    DATASET_ALIAS_REMOVE = "dataset:alias:remove"
    DATASET_FILE_READ = "dataset:file:read"
    DATASET_LOCK_CREATE = "dataset:lock:create"
    DATASET_LOCK_RELEASE = "dataset:lock:release"
    DATASET_LOCK_BREAK = "dataset:lock:break"
    DATASET_VERSION_PRUNE = "dataset:version:prune"
    DATASET_NAME_REMOVE = "dataset:name:remove"
    STORE_GC_RUN = "store:gc:run"
    STORE_FSCK_RUN = "store:fsck:run"
    STORE_SCRUB_RUN = "store:scrub:run"
    STORE_OBJECT_QUARANTINE = "store:object:quarantine"
    STORE_OBJECT_REPAIR = "store:object:repair"
    STORE_QUOTA_SET = "store:quota:set"
    STORE_QUOTA_REMOVE = "store:quota:remove"
    WORKSPACE_REGISTRATION_CREATE = "workspace:registration:create"
    WORKSPACE_REGISTRATION_DELETE = "workspace:registration:delete"
    WORKSPACE_PATH_TRACK = "workspace:path:track"
    WORKSPACE_PATH_CHECKOUT = "workspace:path:checkout"
    WORKSPACE_PATH_UNTRACK = "workspace:path:untrack"
    ACL_OBJECTS_REVOKE = "acl:objects:revoke"
    ACL_OBJECTS_RESTORE = "acl:objects:restore"
    ACL_STORE_CONVERT = "acl:store:convert"
    REMOTE_CONFIG_ADD = "remote:config:add"
    REMOTE_CONFIG_REMOVE = "remote:config:remove"
    REMOTE_DATASET_PUSH = "remote:dataset:push"
    REMOTE_DATASET_PULL = "remote:dataset:pull"
    REMOTE_OBJECT_FETCH = "remote:object:fetch"
    REMOTE_OBJECT_EVICT = "remote:object:evict"


SECURITY_RELEVANT: frozenset[Action] = frozenset({
    Action.ACCOUNT_USER_REGISTER, Action.ACCOUNT_USER_CREATE, Action.ACCOUNT_USER_DISABLE,
    Action.ACCOUNT_USER_ENABLE, Action.ACCOUNT_USER_UNLOCK, Action.ACCOUNT_PASSWORD_SET,
    Action.ACCOUNT_TOKEN_CREATE, Action.ACCOUNT_TOKEN_REVOKE, Action.AUDIT_CHECKPOINT_RESET,
    Action.POLICY_ROLE_GRANT, Action.POLICY_ROLE_REVOKE, Action.POLICY_FILE_RELOAD,
    Action.POLICY_FILE_REJECT,
})
"""Changes of who may do what: each is checkpointed as soon as its transaction commits
(a cut-off tail of these would hide a grant). Logins, refusals and denials are not in
the set: anyone can cause them in bulk, and the timed checkpoint covers them within
``audit_checkpoint_interval`` seconds."""
