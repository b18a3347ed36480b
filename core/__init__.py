"""Shared foundation: configuration, database, Redis."""
