"""The closed set of audit actions, shaped ``subject:object:action`` (as warehouse does)."""

from enum import StrEnum


class Action(StrEnum):
    ACCESS_REQUEST_DENY = "access:request:deny"
    ACCOUNT_USER_REGISTER = "account:user:register"
    ACCOUNT_USER_CREATE = "account:user:create"
    ACCOUNT_USER_DISABLE = "account:user:disable"
    ACCOUNT_USER_ENABLE = "account:user:enable"
    ACCOUNT_PASSWORD_SET = "account:password:set"
    ACCOUNT_LOGIN_SUCCESS = "account:login:success"
    ACCOUNT_LOGIN_FAILURE = "account:login:failure"
    ACCOUNT_TOKEN_CREATE = "account:token:create"
    ACCOUNT_TOKEN_REVOKE = "account:token:revoke"
    POLICY_ROLE_GRANT = "policy:role:grant"
    POLICY_ROLE_REVOKE = "policy:role:revoke"
    POLICY_FILE_RELOAD = "policy:file:reload"
    POLICY_FILE_REJECT = "policy:file:reject"
    DATASET_NAME_CREATE = "dataset:name:create"
    DATASET_VERSION_COMMIT = "dataset:version:commit"
    DATASET_TAG_CREATE = "dataset:tag:create"
    WORKSPACE_REGISTRATION_CREATE = "workspace:registration:create"
    WORKSPACE_REGISTRATION_DELETE = "workspace:registration:delete"
    WORKSPACE_PATH_TRACK = "workspace:path:track"
    WORKSPACE_PATH_CHECKOUT = "workspace:path:checkout"
