"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from app.models.audit import AuditEvent
from app.models.plugin_setting import PluginSetting
from app.models.user import ConsentRecord, DoctorProfile, PatientProfile, Role, User, VerificationStatus

__all__ = [
    "AuditEvent",
    "ConsentRecord",
    "DoctorProfile",
    "PatientProfile",
    "PluginSetting",
    "Role",
    "User",
    "VerificationStatus",
]
