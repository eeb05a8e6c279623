"""The overview dashboard: headline figures composed from the domains' services."""
