"""The one error root of workspace, and the stable exit codes it maps to.

    WorkspaceError                 exit 1, HTTP 500   (anything unexpected but ours)
    ├── InvalidInput               exit 2, HTTP 400   (bad names, paths, references, options)
    │   └── RequestTooLarge        exit 2, HTTP 413   (a request body over max_request_body)
    ├── NotFound                   exit 3, HTTP 404   (unknown dataset, version, tag, path)
    ├── PermissionDenied           exit 4, HTTP 403   (not yours, not allowed, unsafe file)
    │   └── AuthenticationRequired exit 4, HTTP 401   (no identity on this door)
    ├── Conflict                   exit 5, HTTP 409   (someone committed since you, local changes)
    │   └── AclFull                exit 5, HTTP 409   (an object cannot name one more reader)
    ├── DaemonUnreachable          exit 6, (client)   (no daemon on the socket)
    ├── RemoteUnavailable          exit 6, HTTP 502   (a remote's storage kept refusing or failing)
    ├── StoreCorrupt               exit 7, HTTP 500   (an object does not hash to its name)
    ├── AuditTampered              exit 8, HTTP 409   (the audit chain or its checkpoints disagree)
    ├── DiskFull                   exit 9, HTTP 507   (no space left for the store or the database)
    └── QuotaExceeded              exit 10, HTTP 507  (a write would pass a quota)

Every error carries a message (what happened) and a hint (what to do next).
The daemon renders an error as one JSON shape, ``{"error": {...}}`` (see
``to_payload``); the CLI rebuilds the same class from it with ``from_payload``
so the exit code is the same on both sides of the socket.
"""

from __future__ import annotations

from typing import Any, ClassVar


class WorkspaceError(Exception):
    """Root of every error workspace raises on purpose."""

    code: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(
        self, message: str, *, hint: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or {}

    def to_payload(self) -> dict[str, Any]:
        """The one JSON error shape the daemon sends and the CLI prints with --json."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        if self.details:
            body["details"] = self.details
        return {"error": body}

    @staticmethod
    def from_payload(payload: dict[str, Any]) -> WorkspaceError:
        """Rebuild the error the daemon described, keeping its class (and so its exit code)."""
        body = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(body, dict):
            return WorkspaceError("the daemon sent an unreadable error", details={"raw": payload})
        cls = _BY_CODE.get(str(body.get("code")), WorkspaceError)
        return cls(
            str(body.get("message", "unknown error")),
            hint=body.get("hint"),
            details=body.get("details") or {},
        )


class InvalidInput(WorkspaceError):
    code = "invalid_input"
    http_status = 400
    exit_code = 2


class RequestTooLarge(InvalidInput):
    """A request body over the daemon's ``max_request_body``, refused before it is read."""

    code = "too_large"
    http_status = 413


class NotFound(WorkspaceError):
    code = "not_found"
    http_status = 404
    exit_code = 3


class PermissionDenied(WorkspaceError):
    code = "permission_denied"
    http_status = 403
    exit_code = 4


class AuthenticationRequired(PermissionDenied):
    code = "authentication_required"
    http_status = 401


class Conflict(WorkspaceError):
    code = "conflict"
    http_status = 409
    exit_code = 5


class AclFull(Conflict):
    """An object's POSIX ACL cannot name one more user or group (``details``: how many)."""

    code = "acl_full"


class DaemonUnreachable(WorkspaceError):
    code = "daemon_unreachable"
    http_status = 503
    exit_code = 6


class RemoteUnavailable(WorkspaceError):
    """A remote (S3 or a file:// mount) could not be reached, even after retrying.

    It shares exit 6 with ``DaemonUnreachable``: something the command needs
    does not answer; try again later. ``details`` names the remote.
    """

    code = "remote_unavailable"
    http_status = 502
    exit_code = 6


class StoreCorrupt(WorkspaceError):
    code = "store_corrupt"
    http_status = 500
    exit_code = 7


class AuditTampered(WorkspaceError):
    """The audit log was changed outside workspace: ``details`` names the first bad event."""

    code = "audit_tampered"
    http_status = 409
    exit_code = 8


class DiskFull(WorkspaceError):
    """A file system ran out of space: ``details`` names it and its free bytes."""

    code = "disk_full"
    http_status = 507
    exit_code = 9


class QuotaExceeded(WorkspaceError):
    """A write would exceed a quota: ``details`` has the pattern, the quota, usage and need.

    HTTP 507 (Insufficient Storage, as WebDAV answers a quota) rather than 413:
    the request is not too large, the space allowed to it is used up.
    """

    code = "quota_exceeded"
    http_status = 507
    exit_code = 10


_BY_CODE: dict[str, type[WorkspaceError]] = {
    cls.code: cls
    for cls in (
        WorkspaceError,
        InvalidInput,
        RequestTooLarge,
        NotFound,
        PermissionDenied,
        AuthenticationRequired,
        Conflict,
        AclFull,
        DaemonUnreachable,
        RemoteUnavailable,
        StoreCorrupt,
        AuditTampered,
        DiskFull,
        QuotaExceeded,
    )
}
