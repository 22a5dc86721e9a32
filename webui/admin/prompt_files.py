"""Admin → Prompts: the panel's prompt files (see webui.admin.prompts). Names and
paths under the prompts directory; uploads recognised and decoded (ffmpeg or SoX
when not PCM WAV) and TTS text spoken, each written whole before it replaces the
old file; the message blocked callers hear."""
import logging
import os
import re
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

from flask_babel import gettext as _

from esl_apps.prompts import audio, tts
from esl_apps.prompts.builtin import BUILTINS
from esl_apps.prompts.paths import FALLBACK, file_path
from webui.admin.flows import config

log = logging.getLogger(__name__)

ROLES = ("admin", "designer")
CUSTOM = "custom"
NAME_RE = r"^[a-z0-9][a-z0-9_-]{0,47}$"
# the files the page plays: the panel's prompts, the built-in prompts by their exact
# names, the fallback and the blocked-caller message (never tts/, files/ or override/)
PLAYABLE = re.compile(r"^(?:custom/(?:zh|en)/[a-z0-9][a-z0-9_-]{0,47}\.wav"
                      r"|builtin/(?:zh|en)/(?:"
                      + "|".join(re.escape(name) for name in BUILTINS) + r")\.wav"
                      r"|" + re.escape(FALLBACK.as_posix())
                      + r"|blacklist/blocked\.wav)\Z")
# the message blocked callers hear (esl_apps.blacklist.service pushes its path)
BLOCKED = Path("blacklist") / "blocked.wav"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
MAX_TEXT = 500
MIN_SECONDS, MAX_SECONDS = 0.2, 600
DECODE_TIMEOUT = 60


class UploadError(Exception):
    """An upload that cannot become a prompt; the message is for the user."""



def prompts_dir() -> Path:
    return Path(config().dirs["prompts_dir"])


def custom_path(root: Path, language: str, name: str) -> Path:
    return Path(root) / CUSTOM / language / f"{name}.wav"


def flow_reference(language: str, name: str) -> str:
    """What a flow writes as the prompt's `file`."""
    return f"{CUSTOM}/{language}/{name}.wav"


def publish(root: Path, path: Path) -> Path:
    """The converted copy the switch plays for a flow's `file:` prompt naming `path`
    (what the build's FileJob makes), written now so no build is needed."""
    return audio.convert(path, file_path(root, path))


def sniff(data: bytes) -> str | None:
    """wav, ogg or mp3 from the first bytes; None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3" or (len(data) > 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0
                              and data[1] & 0x06):  # an MPEG audio frame, layer I-III
        return "mp3"
    return None


def _pcm(data: bytes):
    try:
        return audio.AudioSegment(data=data)
    except (audio.CouldntDecodeError, ValueError, EOFError, IndexError, struct.error):
        return None


def _external(data: bytes, kind: str):
    """Decode with ffmpeg when installed, else SoX (Debian: libsox-fmt-base reads
    Ogg Vorbis and WAV; MP3 needs libsox-fmt-mp3)."""
    ffmpeg, sox = shutil.which("ffmpeg"), shutil.which("sox")
    if not ffmpeg and not sox:
        raise UploadError(_("This server cannot read %(format)s files (install ffmpeg or "
                            "SoX); upload a PCM WAV file instead.", format=kind.upper()))
    with tempfile.TemporaryDirectory(prefix="hotline-upload-") as tmp:
        source, output = Path(tmp) / f"upload.{kind}", Path(tmp) / "decoded.wav"
        source.write_bytes(data)
        if ffmpeg:
            args = [ffmpeg, "-nostdin", "-v", "error", "-f", kind, "-i", str(source),
                    "-ac", "1", "-ar", str(audio.RATE), "-c:a", "pcm_s16le", str(output)]
        else:
            args = [sox, "-t", kind, str(source), "-t", "wav", "-e", "signed-integer",
                    "-b", "16", "-c", "1", "-r", str(audio.RATE), str(output)]
        try:
            done = subprocess.run(args, capture_output=True, timeout=DECODE_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise UploadError(_("Reading the file took too long.")) from None
        stderr = done.stderr.decode("utf-8", "replace")
        if done.returncode != 0 or not output.is_file():
            if "no handler" in stderr:
                raise UploadError(_(
                    "This server cannot read %(format)s files (install ffmpeg or "
                    "libsox-fmt-mp3); upload a WAV or OGG file instead.",
                    format=kind.upper()))
            log.info("prompt upload: %s could not decode a %s file: %s",
                     Path(args[0]).name, kind, stderr.strip()[-300:])
            return None
        return _pcm(output.read_bytes())


def decode(data: bytes):
    """The uploaded bytes as a pydub AudioSegment; UploadError when they are not
    usable audio."""
    kind = sniff(data)
    if kind is None:
        raise UploadError(_("This is not an audio file: upload a WAV, MP3 or OGG file."))
    segment = _pcm(data) if kind == "wav" else None
    if segment is None:  # compressed, or a WAV that is not integer PCM (A-law, float)
        segment = _external(data, kind)
    if segment is None:
        raise UploadError(_("The file could not be read as %(format)s audio.",
                            format=kind.upper()))
    seconds = len(segment) / 1000
    if seconds < MIN_SECONDS:
        raise UploadError(_("The sound is too short (%(seconds).1f s).", seconds=seconds))
    if seconds > MAX_SECONDS:
        raise UploadError(_("The sound is longer than %(minutes)s minutes.",
                            minutes=MAX_SECONDS // 60))
    return segment


def save_upload(root: Path, language: str, name: str, data: bytes) -> Path:
    path = custom_path(root, language, name)
    audio.write_wav(decode(data), path)   # atomic: the old file stays on any error
    path.with_suffix(".txt").unlink(missing_ok=True)   # a recording now, not TTS
    publish(root, path)
    return path


def _write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    with open(fd, "w", encoding="utf-8") as out:
        out.write(text)
    Path(tmp).replace(path)


def save_text(root: Path, language: str, name: str, text: str) -> Path:
    path = custom_path(root, language, name)
    tts.render(text, language, path)   # PromptError when espeak-ng fails; old file kept
    _write_text(path.with_suffix(".txt"), text)
    os.utime(path)   # the sound is not older than its text: the build keeps it
    publish(root, path)
    return path


def save_blocked(root: Path, data: bytes | None = None, text: str | None = None,
                 language: str = "zh") -> Path:
    """The blocked-caller message from an upload or from TTS text (old file kept on error)."""
    path = Path(root) / BLOCKED
    if data is not None:
        audio.write_wav(decode(data), path)
        path.with_suffix(".txt").unlink(missing_ok=True)
    else:
        tts.render(text, language, path)
        _write_text(path.with_suffix(".txt"), text)
    return path


def blocked_message(root: Path) -> dict | None:
    path = Path(root) / BLOCKED
    if not path.is_file():
        return None
    text_file = path.with_suffix(".txt")
    try:
        text = text_file.read_text(encoding="utf-8") if text_file.is_file() else None
    except OSError:
        text = None
    return {"file": BLOCKED.as_posix(), "text": text, "seconds": sound_seconds(path)}


def clean_text(text: str) -> str | None:
    """One or more lines of text without control characters; None when unusable."""
    text = " ".join((text or "").split())
    if not text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    return text


def sound_seconds(path: Path) -> float | None:
    try:
        with wave.open(str(path), "rb") as wav:
            return round(wav.getnframes() / wav.getframerate(), 1)
    except (OSError, EOFError, wave.Error, ZeroDivisionError):
        return None
