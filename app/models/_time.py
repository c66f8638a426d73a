from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC: SQLite drops tz info, so every timestamp is stored as naive UTC everywhere."""
    return datetime.now(UTC).replace(tzinfo=None)
