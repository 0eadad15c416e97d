"""The dataset domain: versions, manifests, tags, history (log, blame, diff)."""
