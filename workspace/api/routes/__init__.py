"""Route modules, one per concept; each route is a thin call into a domain service."""
