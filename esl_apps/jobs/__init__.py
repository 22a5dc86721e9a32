"""Scheduled jobs of `hotline run` (APScheduler on gevent):

- recordings: compress agent-call recordings older than recording.compress_after_days
  and delete those older than recording.retention_days (esl_apps.jobs.recordings);
- cdr_import: store the call records mod_xml_cdr wrote to its error-log directory
  while Hotline's web side was down (esl_apps.jobs.cdr_import).
- notify: send queued e-mail and SMS notifications, with retries (esl_apps.jobs.notify).
- sla_timers: fire due work-order SLA warnings and escalations (esl_apps.jobs.sla_timers).

Each job opens its own database connection and logs what it did; a failing run is
logged and the next run tries again.
"""
import datetime
import logging

from apscheduler.schedulers.gevent import GeventScheduler

from esl_apps.jobs.cdr_import import CdrImporter
from esl_apps.jobs.notify import add_notify_job
from esl_apps.jobs.recordings import RecordingMaintenance
from esl_apps.jobs.sla_timers import add_sla_job
from esl_apps.switch_render import switch_dirs

log = logging.getLogger(__name__)

RECORDINGS_EVERY_MINUTES = 60
CDR_IMPORT_EVERY_SECONDS = 60
FIRST_RUN_AFTER_SECONDS = 5


def build_scheduler(config, database) -> GeventScheduler:
    """The scheduler with every job added (not started). Each job runs once soon
    after the start, then at its interval."""
    # APScheduler logs every run at INFO; the jobs log what they did themselves
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = GeventScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                              "misfire_grace_time": 300})
    recordings = RecordingMaintenance(database, config.recording.compress_after_days,
                                      config.recording.retention_days)
    importer = CdrImporter(switch_dirs(config)["cdr_errors"], config, database)
    first = (datetime.datetime.now().astimezone()
             + datetime.timedelta(seconds=FIRST_RUN_AFTER_SECONDS))
    scheduler.add_job(recordings.run, "interval", minutes=RECORDINGS_EVERY_MINUTES,
                      id="recordings", name="compress and purge recordings",
                      next_run_time=first)
    scheduler.add_job(importer.run, "interval", seconds=CDR_IMPORT_EVERY_SECONDS,
                      id="cdr_import", name="re-import CDRs from the error-log directory",
                      next_run_time=first)
    add_notify_job(scheduler, config, database, first)
    add_sla_job(scheduler, database, first_run=first)
    return scheduler
