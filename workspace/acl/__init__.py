"""Read access enforced by the kernel: every store object's POSIX ACL follows the policy.

In service mode an object is 0400 and its ACL names exactly the users and
Unix groups who may read it (``store/acl.py`` writes it). The daemon adds an
entry when it links or copies an object for a caller after the policy check
(``grants.py``), and takes it off when that principal no longer holds read on
any dataset that contains the object (``queue.py``, in the background, from
a durable queue). An index in the database (``db/models_acl.py``) records
which principal holds which objects and why, so a revoke touches only what
it must. Who may read is evaluated in ``evaluate.py``; an object's readers
are computed from the index in ``compute.py``; start-up converts an old
store and heals interrupted grants (``convert.py``, ``startup.py``).

Imports point down: this package uses store, db, policy, audit and auth; the
workspace services call it only through ``service.ReadAccess``.
"""
