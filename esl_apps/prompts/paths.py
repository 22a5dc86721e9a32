"""Where every prompt lives under the prompts directory. Nothing here builds a file.

    tts/<language>/<key>.wav        TTS of a flow text; the key is a hash of voice and text
    files/<hash>-<stem>.wav         a flow's sound file, converted to the switch's format
    say/<language>/<file>.wav       what mod_say_zh / mod_say_en play (the say sound_prefix)
    builtin/<language>/<name>.wav   Hotline's own prompts (the recording notice)
    fallback/please_call_later.wav  the dialplan's fail-open prompt
    override/<language>/<name>.wav  an admin's recording in place of a built-in prompt
    override/fallback.wav           an admin's recording in place of the fail-open prompt

The build copies an override over its built file (builtin_path / fallback_path)
instead of speaking the text; it never writes an override.
"""
import hashlib
from pathlib import Path

from esl_apps.ivr.graph import find_prompt

LANGUAGES = ("zh", "en")
VOICES = {"zh": "cmn", "en": "en"}  # espeak-ng voices
FALLBACK = Path("fallback") / "please_call_later.wav"
OVERRIDE = "override"


def tts_key(language: str, text: str) -> str:
    """The cache key of a TTS render: it changes when the text or the voice does."""
    return hashlib.sha256(f"{VOICES[language]}\0{text}".encode()).hexdigest()[:20]


def tts_path(prompts_dir, language: str, text: str) -> Path:
    return Path(prompts_dir) / "tts" / language / f"{tts_key(language, text)}.wav"


def file_path(prompts_dir, source) -> Path:
    """Where the converted copy of the sound file `source` lives."""
    source = Path(source)
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    return Path(prompts_dir) / "files" / f"{digest}-{source.stem}.wav"


def source_dirs(flow_dir, prompts_dir) -> list[Path]:
    """Where a prompt's `file` is looked for, in order: beside the flow, then the prompts dir."""
    return [Path(d) for d in (flow_dir, prompts_dir) if d is not None]


def find_source(file: str, flow_dir, prompts_dir) -> Path:
    """The sound file a prompt names; FileNotFoundError when it is in neither place."""
    dirs = source_dirs(flow_dir, prompts_dir)
    found = find_prompt(file, dirs)
    if found is None:
        raise FileNotFoundError(f"prompt file not found: {file} (looked in "
                                + ", ".join(str(d) for d in dirs) + ")")
    return found


def prompt_text(prompt, language: str) -> tuple[str, str]:
    """(language, text) of a text prompt: `language` when the prompt has it, else the other."""
    text = getattr(prompt.text, language, None)
    if text is not None:
        return language, text
    for other in LANGUAGES:
        if getattr(prompt.text, other, None) is not None:
            return other, getattr(prompt.text, other)
    raise ValueError("the prompt has no text")


def prompt_path(prompt, language: str, flow_dir, prompts_dir) -> Path:
    """The file to play for a flow's Prompt in `language` (the flow's dir: flow.path.parent).

    Never raises for a sound file gone since its flow was loaded: the converted copy
    is named after where the source would be (beside the flow, else the prompts dir)."""
    if prompt.file is not None:
        try:
            source = find_source(prompt.file, flow_dir, prompts_dir)
        except FileNotFoundError:
            source = source_dirs(flow_dir, prompts_dir)[0] / prompt.file
        return file_path(prompts_dir, source)
    return tts_path(prompts_dir, *prompt_text(prompt, language))


def say_dir(prompts_dir, language: str) -> Path:
    """The sound_prefix for the `say` application in `language`."""
    return Path(prompts_dir) / "say" / language


def builtin_path(prompts_dir, language: str, name: str) -> Path:
    return Path(prompts_dir) / "builtin" / language / f"{name}.wav"


def fallback_path(prompts_dir) -> Path:
    """The dialplan's "please call later" prompt (switch_render's fallback_prompt)."""
    return Path(prompts_dir) / FALLBACK


def override_path(prompts_dir, language: str, name: str) -> Path:
    """An admin's recording that replaces the built-in prompt `name` in `language`."""
    return Path(prompts_dir) / OVERRIDE / language / f"{name}.wav"


def fallback_override_path(prompts_dir) -> Path:
    """An admin's recording that replaces the fail-open prompt (both languages in one)."""
    return Path(prompts_dir) / OVERRIDE / "fallback.wav"
