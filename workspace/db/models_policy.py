"""The Casbin rule table."""
