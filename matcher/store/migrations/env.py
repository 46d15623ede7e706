"""Alembic environment for the matcher store.

Migrations run only through ``matcher.store`` (``Store`` upgrades on open, ``python -m matcher
store init`` does it explicitly): the store hands Alembic an open connection inside a write
transaction, so an upgrade is all-or-nothing and two planners opening an old store at once
upgrade it once.
"""

from __future__ import annotations

from alembic import context


def _run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "Run store migrations through matcher.store (open the store, or run "
            "`python -m matcher store init`), not through the alembic command."
        )
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


try:
    context.config  # noqa: B018 - only set while Alembic runs this file
except (AttributeError, NameError):  # imported by something else (doctest collection): nothing to do
    pass
else:
    _run_migrations()
