"""What a caller waiting in a queue is told, computed without the switch.

Position: 1 + the members of the same queue still waiting (Waiting or Trying)
who joined earlier (ties by member UUID). mod_callcenter serves members by score,
(now - joined) + base score, so with Hotline's zero base score this is its order.

Estimated wait: the queue's recent service interval, the mean time between the
last answers (bridge-agent-start) in this queue, times the caller's position: if
one caller is taken every 40 s, the third in line waits about two minutes. The
interval counts every agent at once, so it needs no agent count. With a single
recent answer the wait of that answered caller is used; with none, or none in the
last hour, no estimate is announced (a made-up number is worse than none)."""
import math
import re
import time
from collections import deque
from dataclasses import dataclass

from esl_apps.prompts.paths import builtin_path
from esl_apps.waiting.say import digit_path, number_paths

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{12}$")
KEY_RE = re.compile(r"^[0-9*#]$")
WAITING_STATES = ("Waiting", "Trying")
SAMPLES = 10            # answers kept per queue
SAMPLE_MAX_AGE = 3600.0  # seconds: older answers say nothing about now


def language_of(value: str) -> str:
    """The prompt language of a hotline_language value (zh, zh_CN, en...)."""
    return "en" if (value or "").lower().startswith("en") else "zh"


@dataclass
class Member:
    session_uuid: str
    member_uuid: str
    queue: str            # mod_callcenter's name, Q@default
    joined: float         # epoch seconds
    state: str = "Waiting"
    language: str = "zh"
    exit_key: str = ""
    caller: str = ""
    next_announce: float = 0.0
    displaced: str | None = None   # the file string last displaced onto the channel


def position(member: Member, members) -> int:
    ahead = sum(1 for m in members
                if m.queue == member.queue and m.state in WAITING_STATES
                and m.session_uuid != member.session_uuid
                and (m.joined, m.session_uuid) < (member.joined, member.session_uuid))
    return ahead + 1


class WaitEstimator:
    def __init__(self, clock=time.time):
        self.clock = clock
        self.answers: dict[str, deque] = {}   # queue -> (answered_at, waited)

    def answered(self, queue: str, answered_at: float, joined: float | None) -> None:
        waited = max(0.0, answered_at - joined) if joined else None
        self.answers.setdefault(queue, deque(maxlen=SAMPLES)).append((answered_at, waited))

    def _recent(self, queue):
        now = self.clock()
        return [a for a in self.answers.get(queue, ()) if now - a[0] <= SAMPLE_MAX_AGE]

    def seconds(self, queue: str, pos: int) -> float | None:
        recent = sorted(self._recent(queue))
        if len(recent) >= 2:
            interval = (recent[-1][0] - recent[0][0]) / (len(recent) - 1)
            if interval > 0:
                return interval * pos
        waits = [w for _, w in recent if w is not None]
        if waits:
            return sum(waits) / len(waits)
        return None

    def minutes(self, queue: str, pos: int) -> int | None:
        seconds = self.seconds(queue, pos)
        return None if seconds is None else max(1, math.ceil(seconds / 60))


def announcement(prompts_dir, language: str, pos: int, minutes: int | None,
                 exit_key: str = "") -> list[str]:
    """The files of one announcement, in order:
    "您前面还有 N 位来电" (or "您是下一位"), "预计等待 M 分钟", "如需预约回电，请按 K"."""
    lang = language_of(language)

    def builtin(name):
        return str(builtin_path(prompts_dir, lang, name))

    ahead = int(pos) - 1
    if ahead <= 0:
        files = [builtin("queue_next")]
    else:
        files = [builtin("queue_ahead"), *number_paths(prompts_dir, lang, ahead),
                 builtin("queue_ahead_tail")]
    if minutes:
        files += [builtin("queue_wait"), *number_paths(prompts_dir, lang, int(minutes)),
                  builtin("queue_minutes")]
    if exit_key and KEY_RE.match(exit_key):
        digit = digit_path(prompts_dir, lang, exit_key)
        if digit is not None:
            files += [builtin("queue_callback"), digit]
    return files


def file_string(files: list[str]) -> str:
    """One path for uuid_displace: file_string://a!b!c. A path with a character the
    API line or the file string gives a meaning to is refused."""
    for path in files:
        if re.search(r"[\s!'\x00-\x1f]", path):
            raise ValueError(f"a prompt path cannot go into an API command: {path!r}")
    return "file_string://" + "!".join(files)
