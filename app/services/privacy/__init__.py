"""Privacy controls: what MoodLens holds about a patient (`records`), their copy of all of it
(`export`), and deleting their account (`deletion`)."""

from app.services.privacy.deletion import DeletionSummary, delete_account
from app.services.privacy.export import Export, build_export
from app.services.privacy.records import PrivacyError, inventory

__all__ = ["DeletionSummary", "Export", "PrivacyError", "build_export", "delete_account", "inventory"]
