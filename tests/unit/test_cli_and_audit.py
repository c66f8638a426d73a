"""Operator commands and the hash-chained audit trail."""

from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, Role, User, VerificationStatus
from app.security import audit
from tests import factories


def test_create_admin_reads_password_from_stdin(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "Boss@Example.org"],
                                          input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert admin.role is Role.ADMIN


def test_create_admin_refuses_short_password(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "a@example.org"], input="short\n")
    assert result.exit_code != 0 and "at least 12" in result.output


def test_verify_doctor_command(app):
    doctor = factories.doctor(verified=False)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "verify-doctor", doctor.email]).exit_code == 0
    assert db.session.get(User, doctor.id).doctor_profile.verification_status is VerificationStatus.VERIFIED
    again = runner.invoke(args=["users", "verify-doctor", doctor.email])
    assert again.exit_code != 0 and "already verified" in again.output
    missing = runner.invoke(args=["users", "verify-doctor", "nobody@example.org"])
    assert missing.exit_code != 0 and "No doctor account" in missing.output


def test_demo_seed_prints_passwords_once_and_they_work(app):
    from app.services.accounts import authenticate

    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if "@demo.moodlens.local" in line]
    assert [row[0] for row in rows] == ["patient", "doctor", "admin"]
    for _role, email, password in rows:
        assert authenticate(email, password) is not None
    doctor = db.session.scalar(select(User).where(User.email == rows[1][1]))
    assert doctor.is_verified_doctor
    second = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert "exist already" in second.output


def test_demo_seed_is_refused_in_production(app_factory):
    app = app_factory(DEMO_SEED_ALLOWED=False)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "seed"])
        assert result.exit_code != 0 and "never created with the production" in result.output
        assert db.session.scalar(select(User)) is None


def test_audit_chain_verifies_and_detects_tampering(app):
    for index in range(5):
        audit.record("test.event", actor_id=index, details={"n": index})
    db.session.commit()
    assert audit.verify_chain() is None

    third = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()[2]
    db.session.execute(update(AuditEvent).where(AuditEvent.id == third.id).values(details={"n": 99}))
    db.session.commit()
    broken = audit.verify_chain()
    assert broken is not None and broken.event_id == third.id and "altered" in broken.reason


def test_audit_chain_detects_a_deleted_row(app):
    for index in range(4):
        audit.record("test.event", actor_id=index)
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    db.session.delete(events[1])
    db.session.commit()
    assert audit.verify_chain().event_id == events[2].id
