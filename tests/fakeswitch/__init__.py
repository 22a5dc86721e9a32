"""A fake FreeSWITCH that speaks the event-socket wire protocol over TCP and
replays traffic recorded from the real switch (tests/fixtures/esl/)."""
