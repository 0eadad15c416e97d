"""workspace: one daemon that owns a shared, content-addressed data cache.

The package is layered (see docs/design.md); imports point downwards only.
"""

__version__ = "0.1.0"
