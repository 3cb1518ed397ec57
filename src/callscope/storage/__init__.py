"""Persistence: SQLAlchemy Core tables, one store per noun, Alembic migrations."""
