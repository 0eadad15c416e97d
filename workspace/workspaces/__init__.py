"""The workspace domain: registering directories, add/commit, checkout, status."""
