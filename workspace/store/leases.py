"""Linux file leases: how adoption knows nobody is writing a file while it becomes an object.

A read lease (``F_SETLEASE`` with ``F_RDLCK``) can only be taken while no one
has the file open for writing, and any later open for writing *breaks* it: the
opener blocks (up to ``/proc/sys/fs/lease-break-time``) while the kernel tells
the lease holder with SIGIO. So "take a read lease, do the work, check the
lease is still whole" proves no writer existed during the work.

SIGIO's default action terminates the process, so a lease must never be taken
before :func:`prepare_leases` has set it to ``SIG_IGN`` (signal dispositions
can only be changed from the main thread, hence a separate call at daemon
start). We poll the lease with ``F_GETLEASE`` instead of handling the signal.
"""

from __future__ import annotations

import errno
import fcntl
import signal

# EAGAIN/EBUSY: a writer exists. EINVAL: the filesystem has no leases (or
# fs.leases-enable=0). EACCES/EPERM: not the owner and no CAP_LEASE.
_CANNOT_LEASE = {errno.EAGAIN, errno.EBUSY, errno.EINVAL, errno.EACCES, errno.EPERM}


def prepare_leases() -> None:
    """Make lease breaks harmless to this process; call once from the main thread."""
    signal.signal(signal.SIGIO, signal.SIG_IGN)


def leases_prepared() -> bool:
    """True once :func:`prepare_leases` has run: only then may a lease be taken safely."""
    return signal.getsignal(signal.SIGIO) == signal.SIG_IGN


def take_read_lease(fd: int) -> bool:
    """Take (or renew) a read lease on ``fd`` (open O_RDONLY); False if a writer exists.

    Renewing an existing lease repeats the kernel's "no writer" check, which
    also catches an opener that passed its permission check but has not yet
    reached the lease-break step.
    """
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        if exc.errno in _CANNOT_LEASE:
            return False
        raise
    return True


def lease_intact(fd: int) -> bool:
    """True if our read lease on ``fd`` is unbroken and no writer has appeared since."""
    if fcntl.fcntl(fd, fcntl.F_GETLEASE) != fcntl.F_RDLCK:
        return False
    return take_read_lease(fd)


def release_lease(fd: int) -> None:
    """Drop our lease on ``fd``, letting any blocked writer proceed."""
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
