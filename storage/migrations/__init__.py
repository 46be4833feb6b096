"""Alembic migrations for the ledger and job tables, run by `storage.migrate` at start-up."""
