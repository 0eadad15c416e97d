"""The closed set of audit actions, shaped ``subject:object:action`` (as warehouse does)."""

from enum import StrEnum


class Action(StrEnum):
    ACCOUNT_USER_REGISTER = "account:user:register"
    DATASET_NAME_CREATE = "dataset:name:create"
    DATASET_VERSION_COMMIT = "dataset:version:commit"
    DATASET_TAG_CREATE = "dataset:tag:create"
    WORKSPACE_REGISTRATION_CREATE = "workspace:registration:create"
    WORKSPACE_PATH_TRACK = "workspace:path:track"
    WORKSPACE_PATH_CHECKOUT = "workspace:path:checkout"
