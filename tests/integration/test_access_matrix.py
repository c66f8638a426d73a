"""Access matrix: every route of the app × seven people, against one declared table.

The routes come from `app.url_map`, so a new route without an entry here fails the test.
People: anonymous, the patient who owns the records (owner), another patient, a doctor not yet
verified, a verified doctor not assigned to the owner, the doctor who accepted the owner's
consultation (assigned), and an admin.

Outcomes: a status code, LOGIN (sent to the log-in page), REDIR (any other redirect, e.g. a
fragment URL opened as a page), or FLOW for a POST by someone entitled to it: that action changes
state and is exercised by the flow tests of its area (test_screening_*, test_care_*, test_admin_*,
test_accounts, test_mfa_and_sessions), not here. Every denied POST is sent, with a valid CSRF
token, and must change nothing.
"""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from app.extensions import db
from app.models.care import ChatMessage, Consultation, ConsultationStatus, Diagnosis, Report, ReportStatus
from app.models.user import User, VerificationStatus
from app.security.audit import verify_chain
from tests.helpers import csrf_token, login
from tests.integration.access_world import PERSONAS, build_world

#                                                 anon   owner  other  unverif unassig assigned admin
GET_EXPECTED = {
    "home.index":                                 "200    REDIR  REDIR  REDIR  REDIR  REDIR  REDIR",
    "home.patient":                               "LOGIN  200    200    403    403    403    403",
    "home.doctor":                                "LOGIN  403    403    200    200    200    403",
    "auth.login":                                 "200    REDIR  REDIR  REDIR  REDIR  REDIR  REDIR",
    "auth.register":                              "200    200    200    200    200    200    200",
    "auth.register_doctor":                       "200    200    200    200    200    200    200",
    "auth.mfa_verify":                            "LOGIN  REDIR  REDIR  REDIR  REDIR  REDIR  REDIR",
    "auth.mfa_setup":                             "LOGIN  200    200    200    200    200    200",
    "admin.index":                                "LOGIN  403    403    403    403    403    200",
    "admin.audit_trail":                          "LOGIN  403    403    403    403    403    200",
    "admin.audit_verify":                         "LOGIN  403    403    403    403    403    200",
    "admin.doctors":                              "LOGIN  403    403    403    403    403    200",
    "admin.plugins":                              "LOGIN  403    403    403    403    403    200",
    "admin.models":                               "LOGIN  403    403    403    403    403    200",
    "admin.compare_models":                       "LOGIN  403    403    403    403    403    200",
    "admin.training_run":                         "LOGIN  403    403    403    403    403    404",
    "admin.model_version":                        "LOGIN  403    403    403    403    403    404",
    "admin.model_figure":                         "LOGIN  403    403    403    403    403    404",
    "admin.model_comparison":                     "LOGIN  403    403    403    403    403    404",
    "preferences.language_link":                  "400    400    400    400    400    400    400",
    "admin.plugin_confusion_matrix":              "LOGIN  403    403    403    403    403    404",
    "admin.queue":                                "LOGIN  403    403    403    403    403    200",
    "admin.users":                                "LOGIN  403    403    403    403    403    200",
    "screening.history":                          "LOGIN  200    200    403    403    403    403",
    "screening.new":                              "LOGIN  200    200    403    403    403    403",
    "screening.panel":                            "LOGIN  REDIR  REDIR  403    403    403    403",
    "screening.consent_page":                     "LOGIN  200    200    403    403    403    403",
    "screening.model_card":                       "LOGIN  200    200    200    200    200    200",
    "screening.detail":                           "LOGIN  200    404    404    404    200    404",
    "screening.status":                           "LOGIN  REDIR  404    404    404    REDIR  404",
    "screening.progress_stream":                  "LOGIN  204    404    404    404    204    404",
    "screening.media:photo":                      "LOGIN  200    404    404    404    200    404",
    "screening.media:crop":                       "LOGIN  200    404    404    404    200    404",
    "screening.media:gradcam":                    "LOGIN  404    404    404    404    200    404",
    "screening.activation_map":                   "LOGIN  404    404    404    404    REDIR  404",
    "screening.api_detail":                       "401    200    404    404    404    200    404",
    "consultations.doctor_directory":             "LOGIN  200    200    200    200    200    200",
    "consultations.index":                        "LOGIN  200    200    200    200    200    403",
    "consultations.new_consultation":             "LOGIN  200    200    403    403    403    403",
    "consultations.notifications_page":           "LOGIN  200    200    200    200    200    403",
    "consultations.patient_panel":                "LOGIN  REDIR  REDIR  403    403    403    403",
    "consultations.doctor_panel":                 "LOGIN  403    403    404    REDIR  REDIR  403",
    "consultations.detail":                       "LOGIN  200    404    404    404    200    403",
    "consultations.messages":                     "LOGIN  REDIR  404    404    404    REDIR  403",
    "consultations.chat_stream":                  "LOGIN  200    404    404    404    200    403",
    "consultations.diagnosis":                    "LOGIN  403    403    404    404    200    403",
    "consultations.shared_screening":             "LOGIN  403    403    404    404    200    403",
    "reports.show":                               "LOGIN  200    404    404    404    200    403",
    "reports.pdf":                                "LOGIN  200    404    404    404    200    403",
    "reports.patient_history":                    "LOGIN  200    200    403    403    403    403",
    "account.index":                              "LOGIN  200    200    403    403    403    403",
    "account.deleted":                            "REDIR  REDIR  REDIR  REDIR  REDIR  REDIR  REDIR",
    "auth.register_sent":                         "200    200    200    200    200    200    200",
    "auth.confirm_email_pending":                 "LOGIN  REDIR  REDIR  REDIR  REDIR  REDIR  REDIR",
    "auth.confirm_email":                         "400    400    400    400    400    400    400",
    "auth.forgot_password":                       "200    200    200    200    200    200    200",
    "auth.reset_password":                        "400    400    400    400    400    400    400",
    "auth.change_password":                       "LOGIN  200    200    200    200    200    200",
    "auth.session_clock":                         "LOGIN  200    200    200    200    200    200",
    "caseload.index":                             "LOGIN  403    403    403    200    200    403",
    "caseload.export":                            "LOGIN  403    403    403    200    200    403",
    "caseload.followup":                          "LOGIN  403    403    403    404    200    403",
    "caseload.prompts":                           "LOGIN  403    403    403    404    REDIR  403",
    # Operations: no login; /readyz is 503 here (no worker runs); /metrics from this machine.
    "ops.healthz":                                "200    200    200    200    200    200    200",
    "ops.readyz":                                 "503    503    503    503    503    503    503",
    "ops.prometheus_metrics":                     "200    200    200    200    200    200    200",
    "api.report":                                 "401    200    404    404    404    200    404",
    "tokens.personal":                            "LOGIN  403    403    200    200    200    403",
    "tokens.integrations":                        "LOGIN  403    403    403    403    403    200",
    "fhir.everything":                            "401    404    404    404    404    200    404",
    "fhir.questionnaire_responses":               "401    400    400    400    400    400    400",
    "fhir.consultation_bundle":                   "LOGIN  403    403    404    404    200    403",
    "sso.login":                                  "404    404    404    404    404    404    404",
    "sso.callback":                               "404    404    404    404    404    404    404",
    "sso.signed_out":                             "404    404    404    404    404    404    404",
}

#                                                 anon   owner  other  unverif unassig assigned admin
POST_EXPECTED = {
    "auth.login":                                 "FLOW   FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "auth.register":                              "FLOW   FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "auth.register_doctor":                       "FLOW   FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "auth.logout":                                "LOGIN  FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "auth.logout_everywhere":                     "LOGIN  FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "auth.mfa_verify":                            "LOGIN  FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "auth.mfa_setup":                             "LOGIN  FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "admin.reject_doctor":                        "LOGIN  403    403    403    403    403    FLOW",
    "admin.revoke_doctor":                        "LOGIN  403    403    403    403    403    FLOW",
    "admin.verify_doctor":                        "LOGIN  403    403    403    403    403    FLOW",
    "admin.set_default_plugin":                   "LOGIN  403    403    403    403    403    FLOW",
    "admin.adopt_threshold":                      "LOGIN  403    403    403    403    403    FLOW",
    "admin.disable_plugin":                       "LOGIN  403    403    403    403    403    FLOW",
    "admin.enable_plugin":                        "LOGIN  403    403    403    403    403    FLOW",
    "admin.train_model":                          "LOGIN  403    403    403    403    403    FLOW",
    "admin.train_severity":                       "LOGIN  403    403    403    403    403    FLOW",
    "admin.serve_model_version":                  "LOGIN  403    403    403    403    403    FLOW",
    "admin.start_comparison":                     "LOGIN  403    403    403    403    403    FLOW",
    "account.preferences_update":                 "LOGIN  FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "preferences.language":                       "FLOW   FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "preferences.browser_timezone":               "FLOW   FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "admin.stop_training_run":                    "LOGIN  403    403    403    403    403    FLOW",
    "admin.retry_job":                            "LOGIN  403    403    403    403    403    FLOW",
    "admin.deactivate_user":                      "LOGIN  403    403    403    403    403    FLOW",
    "admin.reactivate_user":                      "LOGIN  403    403    403    403    403    FLOW",
    "admin.reset_second_factor":                  "LOGIN  403    403    403    403    403    FLOW",
    "screening.new":                              "LOGIN  FLOW   FLOW   403    403    403    403",
    "screening.consent_page":                     "LOGIN  FLOW   FLOW   403    403    403    403",
    "screening.consent_withdraw":                 "LOGIN  FLOW   FLOW   403    403    403    403",
    "screening.retry":                            "LOGIN  FLOW   404    404    404    403    404",
    "consultations.new_consultation":             "LOGIN  FLOW   FLOW   403    403    403    403",
    "consultations.notifications_read":           "LOGIN  FLOW   FLOW   FLOW   FLOW   FLOW   403",
    "consultations.accept":                       "LOGIN  403    403    404    404    FLOW   403",
    "consultations.decline":                      "LOGIN  403    403    404    404    FLOW   403",
    "consultations.close":                        "LOGIN  FLOW   404    404    404    FLOW   403",
    "consultations.diagnosis":                    "LOGIN  403    403    404    404    FLOW   403",
    "consultations.post_message":                 "LOGIN  FLOW   404    404    404    FLOW   403",
    "consultations.mark_messages_read":           "LOGIN  FLOW   404    404    404    FLOW   403",
    "consultations.request_screening":            "LOGIN  403    403    404    404    FLOW   403",
    "consultations.acknowledge_crisis":           "LOGIN  403    403    404    404    FLOW   403",
    "consultations.share":                        "LOGIN  FLOW   404    403    403    403    403",
    "consultations.revoke":                       "LOGIN  FLOW   404    403    403    403    403",
    "reports.create":                             "LOGIN  403    403    404    404    FLOW   403",
    "reports.update":                             "LOGIN  403    403    404    404    FLOW   403",
    "reports.finalise":                           "LOGIN  403    403    404    404    FLOW   403",
    "reports.amend":                              "LOGIN  403    403    404    404    FLOW   403",
    "account.export":                             "LOGIN  FLOW   FLOW   403    403    403    403",
    "account.research_consent_grant":             "LOGIN  FLOW   FLOW   403    403    403    403",
    "account.research_consent_withdraw":          "LOGIN  FLOW   FLOW   403    403    403    403",
    "account.delete":                             "LOGIN  400    400    403    403    403    403",
    "auth.resend_confirmation":                   "LOGIN  REDIR  REDIR  REDIR  REDIR  REDIR  REDIR",
    "auth.confirm_email":                         "400    400    400    400    400    400    400",
    "auth.forgot_password":                       "FLOW   FLOW   FLOW   FLOW   FLOW   FLOW   FLOW",
    "auth.reset_password":                        "400    400    400    400    400    400    400",
    "auth.change_password":                       "LOGIN  400    400    400    400    400    400",
    "caseload.request_screening":                 "LOGIN  403    403    403    404    FLOW   403",
    "caseload.followup":                          "LOGIN  403    403    403    404    FLOW   403",
    "caseload.dismiss_prompt":                    "LOGIN  403    403    403    404    FLOW   403",
    "tokens.personal":                            "LOGIN  403    403    FLOW   FLOW   FLOW   403",
    "tokens.revoke_personal":                     "LOGIN  403    403    FLOW   FLOW   FLOW   403",
    "tokens.integrations":                        "LOGIN  403    403    403    403    403    FLOW",
    "tokens.revoke_integration":                  "LOGIN  403    403    403    403    403    FLOW",
}

MEDIA_VARIANTS = ("photo", "crop", "gradcam")


def outcome(response) -> str:
    if response.status_code in (301, 302, 303, 307):
        return "LOGIN" if "/auth/login" in response.headers.get("Location", "") else "REDIR"
    return str(response.status_code)


def routes(app, method: str) -> dict[str, tuple]:
    """Table key → (rule, URL values) for every route answering `method`."""
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or method not in rule.methods:
            continue
        if "which" in rule.arguments:
            for which in MEDIA_VARIANTS:
                found[f"{rule.endpoint}:{which}"] = (rule, {"which": which})
        else:
            found[rule.endpoint] = (rule, {})
    return found


def _state(world) -> tuple:
    """What a denied POST must not have changed."""
    consultation = db.session.get(Consultation, world.consultation_id)
    db.session.refresh(consultation)
    return (
        consultation.status,
        [share.revoked_at for share in consultation.shares],
        db.session.scalar(select(func.count()).select_from(ChatMessage)),
        db.session.scalar(select(func.count()).select_from(Diagnosis)),
        db.session.scalar(select(func.count()).select_from(Report)),
        db.session.get(Report, world.report_id).status,
        db.session.get(User, world.users["unverified_doctor"].id).doctor_profile.verification_status,
        [user.active for user in db.session.scalars(select(User).order_by(User.id))],
    )


def test_every_route_is_declared_and_behaves_as_declared(app):
    world = build_world()
    clients = {}
    for persona in PERSONAS:
        clients[persona] = app.test_client()
        if persona != "anonymous":
            login(clients[persona], world.users[persona])

    get_routes, post_routes = routes(app, "GET"), routes(app, "POST")
    assert sorted(get_routes) == sorted(GET_EXPECTED), "declare every GET route in GET_EXPECTED"
    assert sorted(post_routes) == sorted(POST_EXPECTED), "declare every POST route in POST_EXPECTED"

    before = _state(world)
    mismatches = []
    for method, table, found in (("GET", GET_EXPECTED, get_routes), ("POST", POST_EXPECTED, post_routes)):
        for key, expected_row in table.items():
            rule, extra = found[key]
            values = {name: world.url_values(name) for name in rule.arguments if name != "which"}
            with app.test_request_context():
                url = url_for(rule.endpoint, **values, **extra)
            for persona, expected in zip(PERSONAS, expected_row.split(), strict=True):
                if expected == "FLOW":
                    continue
                client = clients[persona]
                if method == "GET":
                    actual = outcome(client.get(url))
                else:
                    token = csrf_token(client, "/auth/register")
                    actual = outcome(client.post(url, data={"csrf_token": token}))
                if actual != expected:
                    mismatches.append(f"{method} {url} as {persona}: expected {expected}, got {actual}")
    assert mismatches == [], "\n".join(mismatches)

    after = _state(world)
    assert after == before, "a denied request changed something"
    assert after[0] is ConsultationStatus.ACCEPTED and after[5] is ReportStatus.FINAL
    assert after[6] is VerificationStatus.PENDING
    assert verify_chain() is None
