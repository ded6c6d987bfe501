"""Persistence: SQLModel tables, repositories and Alembic migrations (SQLite or Postgres)."""

from pathlib import Path

# Where the Alembic environment and revision files live (read without importing Alembic).
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
