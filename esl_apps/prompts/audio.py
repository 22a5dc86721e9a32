"""Reading sound files and writing them in the switch's format: 8000 Hz, mono,
16-bit PCM WAV, written atomically (a temporary file, then os.replace).

Only PCM WAV is read, by pydub without ffmpeg; another format is refused with a
line saying how to convert it."""
import os
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

from esl_apps.prompts import PromptError

with warnings.catch_warnings():
    # pydub looks for ffmpeg when imported and uses the deprecated audioop; WAV needs neither
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError
    from pydub.silence import detect_leading_silence

RATE = 8000
CHANNELS = 1
SAMPLE_WIDTH = 2  # bytes


def read_wav(path: Path) -> AudioSegment:
    path = Path(path)
    if path.suffix.lower() != ".wav":
        raise PromptError(f"{path}: only WAV sound files are supported; convert it first, "
                          f"e.g. ffmpeg -i {path.name} -ar 8000 -ac 1 {path.stem}.wav")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PromptError(f"{path}: {exc.strerror}") from None
    try:
        return AudioSegment(data=data)
    except (CouldntDecodeError, ValueError, EOFError, IndexError) as exc:
        # pydub reads integer PCM only (not float, A-law or mu-law WAV)
        raise PromptError(f"{path}: not a PCM WAV file ({exc})") from None


def to_switch_format(segment: AudioSegment) -> AudioSegment:
    return (segment.set_channels(CHANNELS).set_sample_width(SAMPLE_WIDTH)
            .set_frame_rate(RATE))


@contextmanager
def replacing(output: Path):
    """A binary file to write that becomes `output` only once it is complete (a
    temporary file beside it, then os.replace); on an error the old file stays."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".tmp", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        os.unlink(tmp)
        raise


def write_wav(segment: AudioSegment, output: Path) -> Path:
    """Write `segment` to `output` in the switch's format; readers never see half a file."""
    with replacing(output) as out:
        to_switch_format(segment).export(out, format="wav")
    return Path(output)


def copy(source: Path, output: Path) -> Path:
    """`source` copied byte for byte to `output`, atomically."""
    with open(source, "rb") as data, replacing(output) as out:
        shutil.copyfileobj(data, out)
    return Path(output)


def convert(source: Path, output: Path) -> Path:
    """A sound file converted to the switch's format."""
    return write_wav(read_wav(source), output)


def trim(segment: AudioSegment, threshold: float = -50.0, pad_ms: int = 20) -> AudioSegment:
    """Without the silence before and after (the say engine plays its files back to
    back), keeping `pad_ms` on each side. An all-silent segment is kept whole."""
    start = detect_leading_silence(segment, silence_threshold=threshold)
    end = detect_leading_silence(segment.reverse(), silence_threshold=threshold)
    if start + end >= len(segment):
        return segment
    return segment[max(0, start - pad_ms):len(segment) - max(0, end - pad_ms)]


def concat(parts, pause_ms: int = 400) -> AudioSegment:
    """The segments one after another, with a pause between them."""
    parts = [to_switch_format(p) for p in parts]
    silence = AudioSegment.silent(duration=pause_ms, frame_rate=RATE)
    out = parts[0]
    for part in parts[1:]:
        out = out + silence + part
    return out
