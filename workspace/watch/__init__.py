"""File-system watchers (the only package that imports ``watchdog``).

Events are hints: the kernel queue can overflow silently, so every watcher
reconciles by reading the real state instead of trusting event details.
"""
