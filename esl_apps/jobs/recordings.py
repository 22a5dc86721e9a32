"""Compress old agent-call recordings and purge those past the retention period.

Format: Ogg Vorbis, made by SoX (Debian packages sox + libsox-fmt-base, which the
prompt builder already needs; nothing to download). A mono 8 kHz call recorded as
16-bit WAV takes 128 kbit/s; Vorbis at quality 0 keeps speech intelligible at
about an eighth of that (8.6 s of synthetic speech: 137 KB -> 18 KB), and browsers
play it in the panel's <audio> element.
FLAC (also in libsox-fmt-base) would only halve the size; MP3 and Opus need
libsox-fmt-mp3/ffmpeg or opus-tools, more packages for no gain here.

The Recording row follows its file: after compression `path` is the .ogg file,
`format` "ogg", `size_bytes` its size and `compressed_at` set; the WAV is removed
only once the .ogg is written and renamed into place. A purged recording keeps its
row with `deleted_at` set (reports still count the call); CallRecord.recording_path
follows too. Ages count from Recording.created_at (when the call's record was
stored, right after the call), against an injectable clock.
"""
import datetime
import logging
import os
import subprocess
from pathlib import Path

from db.models import CallRecord, Recording, utcnow

log = logging.getLogger(__name__)

BATCH = 200          # rows per run and step, so one run never holds the process long
VORBIS_QUALITY = "0"
SOX_TIMEOUT = 300


class EncodeError(Exception):
    pass


def sox_to_ogg(source: Path, dest: Path) -> None:
    """Encode a WAV file to Ogg Vorbis at dest (written whole or not at all)."""
    part = dest.with_name(dest.name + ".part")
    try:
        result = subprocess.run(["sox", str(source), "-t", "vorbis", "-C", VORBIS_QUALITY,
                                 str(part)], capture_output=True, text=True,
                                timeout=SOX_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        part.unlink(missing_ok=True)
        raise EncodeError(f"sox could not run: {exc}") from None
    if result.returncode != 0 or not part.is_file() or part.stat().st_size == 0:
        part.unlink(missing_ok=True)
        raise EncodeError(f"sox failed ({result.returncode}): {result.stderr.strip()[-300:]}")
    os.replace(part, dest)


class RecordingMaintenance:
    def __init__(self, database, compress_after_days: int, retention_days: int,
                 now=utcnow, encode=sox_to_ogg):
        self.database = database
        self.compress_after = datetime.timedelta(days=compress_after_days)
        self.retention = datetime.timedelta(days=retention_days)
        self.now = now
        self.encode = encode

    def run(self) -> tuple[int, int]:
        """(compressed, purged) in this run; purging first, so nothing is compressed
        only to be deleted."""
        with self.database.connection_context():
            purged = self.purge()
            compressed = self.compress()
        if compressed or purged:
            log.info("recordings: %d compressed, %d purged", compressed, purged)
        return compressed, purged

    def compress(self) -> int:
        cutoff = self.now() - self.compress_after
        rows = (Recording.select()
                .where(Recording.format == "wav", Recording.deleted_at.is_null(),
                       Recording.created_at < cutoff)
                .order_by(Recording.created_at).limit(BATCH))
        done = 0
        for rec in list(rows):
            source = Path(rec.path)
            if not source.is_file():
                log.warning("[%s] recording to compress is missing: %s", rec.call_uuid, source)
                continue
            dest = source.with_suffix(".ogg")
            try:
                self.encode(source, dest)
            except EncodeError as exc:
                log.warning("[%s] cannot compress %s: %s", rec.call_uuid, source, exc)
                continue
            with self.database.atomic():
                (Recording.update(path=str(dest), format="ogg", size_bytes=dest.stat().st_size,
                                  compressed_at=self.now())
                 .where(Recording.id == rec.id).execute())
                (CallRecord.update(recording_path=str(dest))
                 .where(CallRecord.id == rec.call_id).execute())
            source.unlink(missing_ok=True)
            done += 1
        return done

    def purge(self) -> int:
        cutoff = self.now() - self.retention
        rows = (Recording.select()
                .where(Recording.deleted_at.is_null(), Recording.created_at < cutoff)
                .order_by(Recording.created_at).limit(BATCH))
        done = 0
        for rec in list(rows):
            path = Path(rec.path)
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("[%s] cannot delete recording %s: %s", rec.call_uuid, path, exc)
                continue
            with self.database.atomic():
                Recording.update(deleted_at=self.now()).where(Recording.id == rec.id).execute()
                (CallRecord.update(recording_path="")
                 .where(CallRecord.id == rec.call_id).execute())
            _remove_empty_parent(path)
            done += 1
        return done


def _remove_empty_parent(path: Path) -> None:
    """Drop the day's directory once its last recording is gone."""
    try:
        path.parent.rmdir()
    except OSError:
        pass
