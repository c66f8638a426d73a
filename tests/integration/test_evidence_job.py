"""The periodic refresh on real Redis: it runs the study and schedules its next run."""

from app.jobs.evidence import EVIDENCE_REFRESH, refresh_evidence
from app.jobs.periodic import ensure_scheduled, lease_key
from app.jobs.queue import get_queue, get_redis
from app.plugins.registry import DEFAULT_PLUGIN
from app.services import evidence, simulated_cohort


def test_refresh_job_stores_aggregates_and_schedules_the_next_run(app):
    get_redis().flushdb()
    simulated_cohort.seed(100, DEFAULT_PLUGIN, separation=1.5, seed_value=8)
    assert refresh_evidence() == {"groups": 1, "validated": 1}
    assert [s.validated for s in evidence.current_snapshots()] == [True]
    assert get_redis().exists(lease_key("evidence-refresh"))
    scheduled = get_queue().scheduled_job_registry.get_job_ids()
    assert any(get_queue().fetch_job(job_id).func_name == "app.jobs.evidence.refresh_evidence"
               for job_id in scheduled)


def test_the_refresh_is_scheduled_once_and_can_be_turned_off(app):
    get_redis().flushdb()
    assert ensure_scheduled(EVIDENCE_REFRESH)
    assert not ensure_scheduled(EVIDENCE_REFRESH)  # the lease holds the second caller back
    get_redis().flushdb()
    app.config["EVIDENCE_REFRESH_SECONDS"] = 0
    assert not ensure_scheduled(EVIDENCE_REFRESH)
