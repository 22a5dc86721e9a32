"""An admin's recording in place of a built-in prompt or the fallback.

The recording is kept at the job's override path (paths.override_path,
paths.fallback_override_path) and copied over the built file at once, so calls
play it without a build; the build keeps copying it (build.OverridableJob).
Removing it speaks the text again into the built file."""
from pathlib import Path

from esl_apps.prompts import audio
from esl_apps.prompts.build import Keys, OverridableJob, builtin_jobs, override_key

# "<language>/<name>" of each built-in prompt, then "fallback"
IDENTS = tuple(job.ident for job in builtin_jobs(Path(".")))


def find(prompts_dir, ident: str) -> OverridableJob | None:
    """The job of the built-in "<language>/<name>" or "fallback"; None for any other."""
    return next((job for job in builtin_jobs(prompts_dir) if job.ident == ident), None)


def _built(prompts_dir, job: OverridableJob, key: str) -> None:
    keys = Keys(Path(prompts_dir))
    keys.record(job.output, key)
    keys.save()


def install(prompts_dir, job: OverridableJob, segment: audio.AudioSegment) -> Path:
    """`segment` in the switch's format as the override and as the file calls play."""
    audio.write_wav(segment, job.override)
    audio.copy(job.override, job.output)
    _built(prompts_dir, job, override_key(job.override))
    return job.override


def remove(prompts_dir, job: OverridableJob) -> None:
    """Back to TTS: the text is spoken into the built file first, so on a PromptError
    (espeak-ng missing or failing) the recording stays in both places."""
    job.tts.run()
    job.override.unlink(missing_ok=True)
    _built(prompts_dir, job, job.tts.key)
