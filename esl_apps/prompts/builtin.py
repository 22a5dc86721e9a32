"""Hotline's own prompts, each in zh and en: paths.builtin_path(prompts_dir, language, name)."""

BUILTINS = {
    # the record_notice verb's default prompt
    "record_notice": {"zh": "您的通话可能会被录音", "en": "This call may be recorded"},
}

# The dialplan's fail-open prompt (paths.fallback_path): one file, Chinese then English.
FALLBACK = (("zh", "坐席繁忙，请稍后再拨"),
            ("en", "All our agents are busy, please call again later"))
