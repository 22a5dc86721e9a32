"""Re-import the call records mod_xml_cdr could not post.

When a post to /api/cdr fails (Hotline's web side down, a 5xx) after its retries,
mod_xml_cdr writes the CDR to its err-log-dir as `<uuid>.cdr.xml` (`a_<uuid>.cdr.xml`
with prefix-a-leg; a date subdirectory with log rotation), exactly the text it
failed to post without the form's `cdr=`: with Hotline's encode=true that is the
URL-encoded XML (switch_url_encode escapes '+' too), with encode=false or textxml
plain XML. Both are read.
This job stores each file through the same code as the POST (webui.cdr.import_cdr:
upsert by call UUID, outcomes only for a new row), then deletes it. A file that
is not a CDR is moved to `rejected/` beside them and logged, so it is looked at
once and not retried forever; a database error leaves the file for the next run.
Files younger than `min_age` seconds are left alone: the switch may still be
writing them.
"""
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus

from peewee import DatabaseError

from webui.cdr import CdrError, import_cdr

log = logging.getLogger(__name__)

PATTERN = "*.cdr.xml"
REJECTED = "rejected"


@dataclass
class ImportReport:
    stored: int = 0       # new call records
    known: int = 0        # already stored by a post that did get through
    rejected: int = 0
    left: int = 0         # too young, or the database failed


def cdr_text(raw: str) -> str:
    """The XML of an error-log file, URL-encoded (encode=true) or not."""
    text = raw.lstrip()
    return unquote_plus(text) if text.startswith(("%3C", "%3c")) else text


class CdrImporter:
    def __init__(self, directory: Path, config, database, min_age: float = 5.0,
                 clock=time.time):
        self.directory = Path(directory)
        self.config = config
        self.database = database
        self.min_age = min_age
        self.clock = clock

    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.rglob(PATTERN)
                      if REJECTED not in p.relative_to(self.directory).parts)

    def run(self) -> ImportReport:
        report = ImportReport()
        files = self.files()
        if not files:
            return report
        newest = self.clock() - self.min_age
        with self.database.connection_context():
            for path in files:
                try:
                    if path.stat().st_mtime > newest:
                        report.left += 1
                        continue
                    text = path.read_text(encoding="utf-8", errors="replace")
                except FileNotFoundError:
                    continue
                try:
                    new = import_cdr(cdr_text(text), self.config)
                except CdrError as exc:
                    self._reject(path, exc)
                    report.rejected += 1
                    continue
                except DatabaseError as exc:
                    log.error("CDR %s not imported, will retry: %s", path.name, exc)
                    report.left += 1
                    break
                path.unlink(missing_ok=True)
                if new:
                    report.stored += 1
                else:
                    report.known += 1
        report.left += len(files) - (report.stored + report.known + report.rejected
                                     + report.left)
        if report.stored or report.known or report.rejected:
            log.info("CDR error-log import: %d stored, %d already known, %d rejected, "
                     "%d left", report.stored, report.known, report.rejected, report.left)
        return report

    def _reject(self, path: Path, exc) -> None:
        target = self.directory / REJECTED / path.name
        target.parent.mkdir(exist_ok=True)
        path.replace(target)
        log.warning("CDR file %s is not a CDR (%s); moved to %s", path.name, exc, target)
