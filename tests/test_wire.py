import io

import pytest

from esl_apps.wire import (FrameError, check_command_line, encode_event_plain, encode_frame,
                           parse_headers, read_command, read_frame)


def test_frame_round_trip_with_body():
    data = encode_frame({"Content-Type": "api/response"}, "+OK 张三\n")
    headers, body = read_frame(io.BytesIO(data))
    assert headers["Content-Type"] == "api/response"
    assert headers["Content-Length"] == str(len("+OK 张三\n".encode()))
    assert body.decode() == "+OK 张三\n"


def test_event_plain_values_are_url_encoded():
    body = encode_event_plain({"Caller-Caller-ID-Name": "<script>\n: x", "Event-Name": "X"})
    head = body.decode().split("\n\n")[0]
    assert "\n: x" not in head and "%3Cscript%3E" in head
    assert parse_headers(head, decode=True)["Caller-Caller-ID-Name"] == "<script>\n: x"


@pytest.mark.parametrize("raw", [
    b"Content-Type: api/response\nContent-Length: abc\n\n",
    b"Content-Type: api/response\nContent-Length: -5\n\n",
    b"no colon here\n\n",
])
def test_malformed_frames_raise_frame_error(raw):
    with pytest.raises(FrameError):
        read_frame(io.BytesIO(raw))


def test_truncated_body_is_eof():
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(b"Content-Type: x\nContent-Length: 10\n\nabc"))


def test_read_command_keeps_the_command_line():
    first, headers, body = read_command(io.BytesIO(
        b"sendmsg\ncall-command: execute\nexecute-app-name: answer\n\n"))
    assert first == "sendmsg" and headers["execute-app-name"] == "answer" and body == b""


@pytest.mark.parametrize("text", ["status\n\napi shutdown", "x\rshutdown", "a\0b"])
def test_command_lines_cannot_smuggle_a_second_command(text):
    with pytest.raises(ValueError):
        check_command_line(text)
