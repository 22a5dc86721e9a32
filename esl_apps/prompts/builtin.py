"""Hotline's own prompts, each in zh and en: paths.builtin_path(prompts_dir, language, name).

An admin may replace any of them, and the fallback, with a recording
(esl_apps.prompts.override)."""

BUILTINS = {
    # the record_notice verb's default prompt
    "record_notice": {"zh": "您的通话可能会被录音", "en": "This call may be recorded"},
    # the announcement to a caller waiting in a queue (esl_apps.waiting.announce):
    # "您前面还有 <N> 位来电在等待，预计等待 <M> 分钟，如需预约回电，请按 <K>"
    "queue_next": {"zh": "您是下一位", "en": "You are next in line"},
    "queue_ahead": {"zh": "您前面还有", "en": "There are"},
    "queue_ahead_tail": {"zh": "位来电在等待", "en": "callers ahead of you"},
    "queue_wait": {"zh": "预计等待", "en": "The estimated wait is"},
    "queue_minutes": {"zh": "分钟", "en": "minutes"},
    "queue_callback": {"zh": "如需预约回电，请按", "en": "To be called back, press"},
}

# The dialplan's fail-open prompt (paths.fallback_path): one file, Chinese then English.
FALLBACK = (("zh", "坐席繁忙，请稍后再拨"),
            ("en", "All our agents are busy, please call again later"))
