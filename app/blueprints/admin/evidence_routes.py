"""Admin: adopt the threshold the local validation study recommends (versioned and audited)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.admin import bp
from app.models._ids import parse_id
from app.models.user import Role
from app.security.policy import role_required
from app.services import evidence


@bp.post("/evidence/threshold")
@role_required(Role.ADMIN)
def adopt_threshold():
    snapshot_id = parse_id(request.form.get("snapshot"))
    if snapshot_id is None:
        abort(400, description=_("Choose a study group whose recommended threshold to adopt."))
    threshold = evidence.adopt_recommended_threshold(snapshot_id, current_user.id)
    flash(_("Threshold version %(version)s adopted: an indicator of %(value)s or more now suggests seeing "
            "a doctor. Earlier results keep the threshold they were shown with.",
            version=threshold.version, value=f"{threshold.value:g}"), "info")
    return redirect(url_for("screening.model_card", name=threshold.basis["plugin"], _anchor="local-evidence"))
