"""serving version of each trained plugin (chosen by an admin; no longer the newest folder)

Upgrading changes nothing that serves: every plugin folder under ML_MODELS_DIR gets its newest
trained version as serving version, which is what the registry served before. Versions trained
afterwards serve only once an admin chooses them.

Revision ID: 0013_serving_versions
Revises: 0012_locale_timezone
Create Date: 2026-11-28 17:45:00

"""
from datetime import datetime, timezone
from pathlib import Path

from alembic import op
import sqlalchemy as sa
from flask import current_app, has_app_context


# revision identifiers, used by Alembic.
revision = '0013_serving_versions'
down_revision = '0012_locale_timezone'
branch_labels = None
depends_on = None

MODEL_FILE = "model.keras"


def _newest_versions() -> dict[str, str]:
    """{plugin: newest version folder holding a model}, as the registry chose before."""
    if not has_app_context() or not current_app.config.get("ML_MODELS_DIR"):
        return {}
    root = Path(current_app.config["ML_MODELS_DIR"])
    if not root.is_dir():
        return {}
    newest = {}
    for plugin in sorted(root.iterdir()):
        if plugin.name.startswith(".") or not plugin.is_dir():
            continue
        versions = sorted(v.name for v in plugin.iterdir() if (v / MODEL_FILE).is_file())
        if versions:
            newest[plugin.name] = versions[-1]
    return newest


def upgrade():
    with op.batch_alter_table('plugin_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('serving_version', sa.String(length=64), nullable=True))

    settings = sa.table('plugin_settings', sa.column('name', sa.String), sa.column('enabled', sa.Boolean),
                        sa.column('is_default', sa.Boolean), sa.column('serving_version', sa.String),
                        sa.column('updated_at', sa.DateTime))
    connection = op.get_bind()
    existing = set(connection.execute(sa.select(settings.c.name)).scalars())
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for name, version in _newest_versions().items():
        if name in existing:
            connection.execute(settings.update().where(settings.c.name == name)
                               .values(serving_version=version))
        else:
            # No row meant "disabled" for a trained plugin; the new row keeps it so.
            connection.execute(settings.insert().values(name=name, enabled=False, is_default=False,
                                                        serving_version=version, updated_at=now))


def downgrade():
    with op.batch_alter_table('plugin_settings', schema=None) as batch_op:
        batch_op.drop_column('serving_version')
