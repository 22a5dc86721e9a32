"""Sound files the switch plays: TTS renders of the flows' texts, converted copies of
their sound files, the say engines' file sets and the built-in prompts.

paths.py says where each one lives (the IVR runtime and the dialplan use it at run
time and build nothing); build.py makes them (`hotline prompts build`)."""


class PromptError(Exception):
    """A prompt that could not be made, worded for the person who has to fix it."""
