"""The line test an installer dials: a tone, one digit read, a confirmation, hang up.

The digit pressed is left on the channel as `hotline_linetest_digit`, so it shows
in the call's events and its call record."""

TONE = "tone_stream://%(300,100,440);loops=2"
CONFIRM = "tone_stream://%(150,50,880);loops=1"
WAIT_SECONDS = 60
READ_DIGIT = ("1 1 3 5000 # silence_stream://200 silence_stream://200 "
              "hotline_linetest_digit \\d 3000")


class LineTestApp:
    def __init__(self, session, log):
        self.session = session
        self.log = log

    def run(self):
        s = self.session
        s.call_command("answer", block=True, response_timeout=WAIT_SECONDS)
        s.call_command("playback", TONE, block=True, response_timeout=WAIT_SECONDS)
        # min max tries timeout terminators prompt invalid-prompt variable regexp digit-timeout
        done = s.call_command("play_and_get_digits", READ_DIGIT, block=True,
                              response_timeout=WAIT_SECONDS)
        digit = done.headers.get("variable_hotline_linetest_digit") if done else None
        self.log.info("line test heard digit %r", digit)
        if digit:
            s.call_command("playback", CONFIRM, block=True, response_timeout=WAIT_SECONDS)
        s.hangup("NORMAL_CLEARING")
