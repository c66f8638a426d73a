"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from app.models.api_token import ApiToken, TokenKind, TokenScope
from app.models.audit import AuditEvent
from app.models.care import (
    ChatMessage,
    Consultation,
    ConsultationStatus,
    Diagnosis,
    Notification,
    Report,
    ScreeningRequest,
    ScreeningShare,
)
from app.models.care_prompts import PromptDismissal
from app.models.evidence import EvidenceSnapshot, IndicatorThreshold
from app.models.plugin_setting import PluginSetting
from app.models.screening import Screening, ScreeningFrame, ScreeningKind, ScreeningStatus
from app.models.sso import SsoLink
from app.models.training_run import TrainingRun, TrainingStatus
from app.models.user import ConsentRecord, DoctorProfile, PatientProfile, Role, User, VerificationStatus

__all__ = [
    "ApiToken",
    "TokenKind",
    "TokenScope",
    "AuditEvent",
    "ChatMessage",
    "Consultation",
    "ConsultationStatus",
    "Diagnosis",
    "Notification",
    "Report",
    "ScreeningRequest",
    "ScreeningShare",
    "ConsentRecord",
    "DoctorProfile",
    "EvidenceSnapshot",
    "IndicatorThreshold",
    "PatientProfile",
    "PluginSetting",
    "PromptDismissal",
    "Role",
    "Screening",
    "SsoLink",
    "TrainingRun",
    "TrainingStatus",
    "ScreeningFrame",
    "ScreeningKind",
    "ScreeningStatus",
    "User",
    "VerificationStatus",
]
