"""The catalogue database: engine, sessions, base class and migrations."""

from fairbeam.db.base import Base, UTCDateTime, utcnow
from fairbeam.db.engine import make_engine, make_sessionmaker, upgrade_database

__all__ = ["Base", "UTCDateTime", "make_engine", "make_sessionmaker", "upgrade_database", "utcnow"]
