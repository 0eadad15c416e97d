"""Git, read-only, through pygit2 (the only place pygit2 is imported).

- ``repo``: find the repository around a directory, read HEAD (commit, branch,
  dirty) for provenance, map paths into the work tree.
- ``revisions``: resolve revisions, read files and pointer files at any
  revision without touching the work tree, list pointer changes between two.
- ``linediff``: line hunks between two byte strings (libgit2's xdiff), and the
  text-or-binary test line blame relies on.

Nothing here writes to a repository, and nothing here relaxes libgit2's safety
checks (see ``repo`` on repositories owned by another user).
"""
