"""The admin console. Admins manage the platform; they never see clinical content."""

from flask import render_template

from app.blueprints.admin import bp
from app.models.user import Role
from app.security.policy import role_required
from app.services import platform_stats


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return render_template("admin/index.html", stats=platform_stats.overview())
