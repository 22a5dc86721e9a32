"""A tone for an agent phone to send, and a way to find it again in a recording."""
import array
import math
import wave
from pathlib import Path

RATE = 8000


def write_tone(path: Path, freq: float, seconds: float, amplitude: int = 12000) -> Path:
    """A 16-bit mono 8 kHz WAV of one sine."""
    frames = array.array("h", (int(amplitude * math.sin(2 * math.pi * freq * n / RATE))
                               for n in range(int(seconds * RATE))))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(frames.tobytes())
    return path


def samples(path: Path) -> tuple[array.array, int]:
    """The first channel's samples of a 16-bit WAV, and its rate."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2, "expected 16-bit samples"
        channels, rate = wav.getnchannels(), wav.getframerate()
        data = array.array("h", wav.readframes(wav.getnframes()))
    return data[::channels], rate


def tone_share(data, rate: int, freq: float, window_seconds: float = 0.1,
               threshold: float = 0.3) -> float:
    """The share of windows (0..1) in which `freq` carries more than `threshold` of the
    window's energy (Goertzel); silent windows count as without the tone."""
    size = int(rate * window_seconds)
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    windows = hits = 0
    for start in range(0, len(data) - size + 1, size):
        chunk = data[start:start + size]
        energy = sum(s * s for s in chunk)
        windows += 1
        if energy < size * 100 ** 2:       # quieter than ~-50 dBFS: silence
            continue
        s1 = s2 = 0.0
        for s in chunk:
            s1, s2 = s + coeff * s1 - s2, s1
        power = s1 * s1 + s2 * s2 - coeff * s1 * s2      # |X(f)|^2
        if 2 * power / size / energy > threshold:        # a pure sine gives ~1
            hits += 1
    return hits / windows if windows else 0.0
