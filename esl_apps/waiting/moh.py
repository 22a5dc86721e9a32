"""Hold music for `local_stream://moh`: the Debian package asterisk-moh-opsound-wav
(8 kHz 16-bit mono WAV under /usr/share/asterisk/moh) converted into
moh_dir/<rate>/ for each rate local_stream.conf.xml declares. mod_local_stream
opens `moh/<channel rate>` first and falls back to `moh` (the 8 kHz set)."""
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from esl_apps.prompts import PromptError
from esl_apps.prompts.audio import read_wav

log = logging.getLogger(__name__)

SOURCE_DIR = Path("/usr/share/asterisk/moh")
PACKAGE = "asterisk-moh-opsound-wav"
RATES = (8000, 16000)


@dataclass
class MohReport:
    built: list[Path] = field(default_factory=list)
    cached: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        return f"hold music: {len(self.built)} built, {len(self.cached)} cached"


def sources(source_dir: Path = SOURCE_DIR) -> list[Path]:
    source_dir = Path(source_dir)
    found = sorted(source_dir.glob("*.wav")) if source_dir.is_dir() else []
    if not found:
        raise PromptError(f"no hold music in {source_dir}: install the Debian package "
                          f"{PACKAGE} (apt-get install {PACKAGE}), or put 8 kHz WAV files "
                          "there; callers in a queue hear silence until then")
    return found


def _write(segment, rate: int, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".tmp", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            (segment.set_channels(1).set_sample_width(2).set_frame_rate(rate)
             .export(out, format="wav"))
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        os.unlink(tmp)
        raise


def build_moh(moh_dir: Path, source_dir: Path = SOURCE_DIR, rates=RATES) -> MohReport:
    """Convert every source file for every rate; a file newer than its source is kept."""
    report = MohReport()
    for source in sources(source_dir):
        segment = None
        for rate in rates:
            output = Path(moh_dir) / str(rate) / source.name
            if (output.is_file()
                    and output.stat().st_mtime_ns >= source.stat().st_mtime_ns):
                report.cached.append(output)
                continue
            segment = segment if segment is not None else read_wav(source)
            _write(segment, rate, output)
            report.built.append(output)
    log.info("%s", report.summary())
    return report
