"""Versioned schema changes (a package so that a wheel ships them)."""
