"""The scheduled jobs of `hotline run` (esl_apps/jobs): recordings compressed and
purged against a fake clock, and CDRs re-imported from mod_xml_cdr's error-log
directory through the same code as the POST. Both databases."""
import datetime
import os
import shutil
import subprocess
from urllib.parse import quote

import pytest

from db.models import CallRecord, Recording, SurveyResult, utcnow
from esl_apps.config import Config
from esl_apps.jobs import build_scheduler
from esl_apps.jobs.cdr_import import CdrImporter
from esl_apps.jobs.recordings import EncodeError, RecordingMaintenance
from tests.test_call_outcomes import cdr, make_app, ok
from tests.test_recordings import agent_call, write_wav
from tests.test_survey import rated

DAY = datetime.timedelta(days=1)
NOW = datetime.datetime(2026, 11, 22, 6, 0, 0)


class Clock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def client(db):
    return make_app().test_client()


def stored(client, tmp_path, uuid, seconds=4, age_days=0):
    path = write_wav(tmp_path / "recordings" / "2026-11-01" / f"{uuid}.wav", seconds)
    ok(client, agent_call(uuid, path))
    Recording.update(created_at=NOW - age_days * DAY).where(Recording.call_uuid == uuid).execute()
    return path


need_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")


# compress and purge --------------------------------------------------------------
@need_sox
def test_old_recordings_become_ogg_and_the_row_follows(client, tmp_path, db):
    old = stored(client, tmp_path, "old", seconds=6, age_days=8)
    new = stored(client, tmp_path, "new", age_days=6)
    clock = Clock()
    jobs = RecordingMaintenance(db, compress_after_days=7, retention_days=30, now=clock)
    assert jobs.run() == (1, 0)
    rec = Recording.get(call_uuid="old")
    ogg = old.with_suffix(".ogg")
    assert rec.path == str(ogg) and rec.format == "ogg" and rec.compressed_at == NOW
    assert not old.exists() and ogg.is_file()
    assert rec.size_bytes == ogg.stat().st_size < 96044 / 4  # 6 s of 16-bit 8 kHz WAV
    assert CallRecord.get(call_uuid="old").recording_path == str(ogg)
    seconds = subprocess.run(["soxi", "-D", str(ogg)], capture_output=True, text=True,
                             check=True).stdout
    assert abs(float(seconds) - 6) < 0.1
    assert Recording.get(call_uuid="new").format == "wav" and new.exists()
    assert jobs.run() == (0, 0)               # nothing twice
    clock.now += 2 * DAY
    assert jobs.run() == (1, 0) and Recording.get(call_uuid="new").format == "ogg"


def test_recordings_past_retention_are_deleted_and_flagged(client, tmp_path, db):
    gone = stored(client, tmp_path, "gone", age_days=31)
    kept = stored(client, tmp_path, "kept", age_days=29)
    clock = Clock()
    jobs = RecordingMaintenance(db, compress_after_days=40, retention_days=30, now=clock)
    assert jobs.run() == (0, 1)
    rec = Recording.get(call_uuid="gone")
    assert rec.deleted_at == NOW and not gone.exists()
    assert CallRecord.get(call_uuid="gone").recording_path == ""
    assert kept.exists() and Recording.get(call_uuid="kept").deleted_at is None
    assert jobs.run() == (0, 0)
    clock.now += 2 * DAY
    assert jobs.run() == (0, 1)
    assert not kept.parent.exists()            # the emptied day directory went too
    assert Recording.select().count() == 2    # the rows stay for the reports


def test_a_recording_past_retention_is_purged_not_compressed(client, tmp_path, db):
    stored(client, tmp_path, "both", age_days=100)
    encoded = []
    jobs = RecordingMaintenance(db, 7, 30, now=Clock(), encode=lambda s, d: encoded.append(s))
    assert jobs.run() == (0, 1) and encoded == []


def test_a_failed_encoding_keeps_the_wav(client, tmp_path, db, caplog):
    path = stored(client, tmp_path, "fail", age_days=8)

    def broken(source, dest):
        raise EncodeError("no space left")

    jobs = RecordingMaintenance(db, 7, 30, now=Clock(), encode=broken)
    assert jobs.run() == (0, 0)
    assert path.exists() and Recording.get().format == "wav"
    assert "cannot compress" in caplog.text


def test_a_file_gone_before_compression_is_logged(client, tmp_path, db, caplog):
    stored(client, tmp_path, "lost", age_days=8).unlink()
    assert RecordingMaintenance(db, 7, 30, now=Clock()).run() == (0, 0)
    assert "missing" in caplog.text and Recording.get().format == "wav"


# the CDR error-log directory -----------------------------------------------------
class FileClock:
    def __init__(self):
        self.now = 2_000_000_000.0

    def __call__(self):
        return self.now


def write_cdr(directory, name, xml, age=60.0, now=2_000_000_000.0, encoded=True):
    """As mod_xml_cdr writes a CDR it failed to post: with encode=true (Hotline's
    setting) the URL-encoded XML without "cdr=", else the XML itself."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(quote(xml, safe="") if encoded else xml, encoding="utf-8")
    os.utime(path, (now - age, now - age))
    return path


def importer(db, directory, clock=None):
    config = Config.model_validate({"freeswitch": {"cdr_password": "x" * 16}})
    return CdrImporter(directory, config, db, min_age=5.0, clock=clock or FileClock())


def test_cdr_files_are_stored_like_a_post_and_removed(db, tmp_path):
    errors = tmp_path / "cdr-errors"
    write_cdr(errors, "e-1.cdr.xml", rated("e-1", "4"))
    write_cdr(errors / "2026-11-22", "a_e-2.cdr.xml", cdr("e-2"),   # rotated, a_ prefix,
              encoded=False)                                        # encode=false
    report = importer(db, errors).run()
    assert (report.stored, report.known, report.rejected, report.left) == (2, 0, 0, 0)
    assert {c.call_uuid for c in CallRecord.select()} == {"e-1", "e-2"}
    assert SurveyResult.get().score == 4                # the outcomes came along
    assert list(errors.rglob("*.cdr.xml")) == []


def test_a_cdr_that_was_posted_after_all_adds_nothing(client, db, tmp_path):
    ok(client, rated("e-3", "5"))
    errors = tmp_path / "cdr-errors"
    write_cdr(errors, "e-3.cdr.xml", rated("e-3", "5"))
    report = importer(db, errors).run()
    assert (report.stored, report.known) == (0, 1)
    assert CallRecord.select().count() == 1 and SurveyResult.select().count() == 1
    assert not (errors / "e-3.cdr.xml").exists()


def test_running_twice_imports_once(db, tmp_path):
    errors = tmp_path / "cdr-errors"
    write_cdr(errors, "e-4.cdr.xml", rated("e-4", "3"))
    job = importer(db, errors)
    assert job.run().stored == 1
    assert job.run().stored == 0
    write_cdr(errors, "e-4.cdr.xml", rated("e-4", "3"))   # the switch wrote it again
    assert job.run().known == 1
    assert SurveyResult.select().count() == 1


def test_a_file_still_being_written_waits_for_the_next_run(db, tmp_path):
    errors = tmp_path / "cdr-errors"
    write_cdr(errors, "e-5.cdr.xml", cdr("e-5"), age=1.0)
    clock = FileClock()
    job = importer(db, errors, clock)
    assert job.run().left == 1 and CallRecord.select().count() == 0
    clock.now += 10
    assert job.run().stored == 1


def test_a_file_that_is_no_cdr_is_set_aside_once(db, tmp_path, caplog):
    errors = tmp_path / "cdr-errors"
    write_cdr(errors, "junk.cdr.xml", "<html>proxy error</html>")
    write_cdr(errors, "e-6.cdr.xml", cdr("e-6"))
    job = importer(db, errors)
    report = job.run()
    assert (report.stored, report.rejected) == (1, 1)
    assert (errors / "rejected" / "junk.cdr.xml").is_file()
    assert "not a CDR" in caplog.text
    assert job.run().rejected == 0


def test_a_missing_directory_is_nothing_to_do(db, tmp_path):
    assert importer(db, tmp_path / "none").run().stored == 0


def test_hotline_run_schedules_both_jobs(tmp_path):
    config = Config.model_validate({"paths": {"data_dir": str(tmp_path)},
                                    "recording": {"retention_days": 90,
                                                  "compress_after_days": 3}})
    scheduler = build_scheduler(config, None)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"recordings", "cdr_import"} <= set(jobs)  # beside the other areas' jobs
    importer_job = jobs["cdr_import"].func.__self__
    assert importer_job.directory == tmp_path / "log" / "cdr-errors"
    maintenance = jobs["recordings"].func.__self__
    assert maintenance.retention == 90 * DAY and maintenance.compress_after == 3 * DAY


def test_created_at_defaults_to_now(client, tmp_path):
    before = utcnow()
    ok(client, agent_call("t-1", write_wav(tmp_path / "t-1.wav", 2)))
    assert Recording.get().created_at >= before.replace(microsecond=0)
