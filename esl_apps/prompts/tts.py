"""Text to speech with espeak-ng (Debian package espeak-ng), in the switch's format.

espeak-ng writes a 22050 Hz WAV to a temporary file; audio.py converts it."""
import shutil
import subprocess
import tempfile
from pathlib import Path

from esl_apps.prompts import PromptError, audio
from esl_apps.prompts.audio import read_wav, write_wav
from esl_apps.prompts.paths import VOICES

ESPEAK = "espeak-ng"
TIMEOUT = 60  # seconds for one text


def espeak_binary() -> str:
    found = shutil.which(ESPEAK)
    if found is None:
        raise PromptError(f"{ESPEAK} is not installed (Debian: apt-get install {ESPEAK})")
    return found


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def render(text: str, language: str, output: Path, *, espeak: str | None = None,
           trim: bool = False) -> Path:
    """Speak `text` in `language` (zh or en) into `output`; `trim` cuts the silence
    espeak-ng leaves before and after (for files played back to back)."""
    espeak = espeak or espeak_binary()
    with tempfile.TemporaryDirectory(prefix="hotline-tts-") as tmp:
        raw = Path(tmp) / "espeak.wav"
        # "--": a text starting with "-" is text, not an option
        args = [espeak, "-v", VOICES[language], "-w", str(raw), "--", text]
        try:
            done = subprocess.run(args, capture_output=True, timeout=TIMEOUT)
        except FileNotFoundError:
            raise PromptError(f"{ESPEAK} is not installed (Debian: apt-get install {ESPEAK})") \
                from None
        except subprocess.TimeoutExpired:
            raise PromptError(f"{ESPEAK} took over {TIMEOUT} s on {_short(text)!r}") from None
        stderr = (done.stderr + done.stdout).decode("utf-8", "replace").strip()
        if done.returncode != 0 or not raw.is_file() or raw.stat().st_size <= 44:
            raise PromptError(f"{ESPEAK} failed on {_short(text)!r} (exit {done.returncode})"
                              + (f": {stderr}" if stderr else ""))
        speech = read_wav(raw)
        return write_wav(audio.trim(speech) if trim else speech, output)
