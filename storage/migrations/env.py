"""Alembic environment: migrations always run on the connection `storage.migrate` hands over.

To write a new revision, add a file to `versions/` whose `down_revision` is the newest one
(or run `alembic revision` with a config whose script_location is storage/migrations).
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through storage.migrate.upgrade_to_head")

context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
