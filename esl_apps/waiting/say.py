"""The say files (prompts/say/<language>, made by `hotline prompts build` from
esl_apps.prompts.sayfiles) that speak a small whole number, in the order
mod_say_zh (NUMBER PRONOUNCED) and mod_say_en play them.

The announcements cannot run mod_say itself: every dptools application that
plays to the caller (playback, say, phrase) reads the caller's digits, so a press
of the callback key during an announcement would be swallowed and mod_callcenter
would never see it. They are played with uuid_displace instead (what
mod_callcenter does for its own announce-sound), which leaves DTMF alone, and the
number is spelled here from the same files."""
from esl_apps.prompts.paths import say_dir

MAX = 99  # positions and minutes above this are spoken as 99


def zh_files(n: int) -> list[str]:
    n = max(0, min(int(n), MAX))
    if n < 10:
        return [f"digits/{n}"]
    tens, ones = divmod(n, 10)
    out = ["digits/10"] if tens == 1 else [f"digits/{tens}", "digits/10"]
    return out + ([f"digits/{ones}"] if ones else [])


def en_files(n: int) -> list[str]:
    n = max(0, min(int(n), MAX))
    if n < 20:
        return [f"digits/{n}"]
    tens, ones = divmod(n, 10)
    return [f"digits/{tens}0"] + ([f"digits/{ones}"] if ones else [])


def number_paths(prompts_dir, language: str, n: int) -> list[str]:
    names = zh_files(n) if language == "zh" else en_files(n)
    base = say_dir(prompts_dir, language)
    return [str(base / f"{name}.wav") for name in names]


def digit_path(prompts_dir, language: str, key: str) -> str | None:
    """A callback key spoken: 0-9 only (the say sets have no files for * and #)."""
    if len(key) != 1 or not key.isdigit():
        return None
    return str(say_dir(prompts_dir, language) / f"digits/{key}.wav")
