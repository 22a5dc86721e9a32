"""The broken-flow corpus: tests/fixtures/broken_flows/NN_short_name.yaml, each a
small flow with one kind of mistake, loaded alone. Its `# expect: LINE:COL: MESSAGE`
lines are exactly the errors `hotline flow check FILE` prints for it (`{dir}` stands
for the corpus directory, which prompt-file messages name)."""
import re
from pathlib import Path

import pytest

from esl_apps.ivr.loader import load_flows

CORPUS = Path(__file__).resolve().parent / "fixtures" / "broken_flows"
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$")
FILES = sorted(CORPUS.glob("*.yaml"))


def expected(path: Path) -> set[tuple[int, int, str]]:
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            match = EXPECT.match(line)
            assert match, f"{path.name}: malformed expect line {line!r}"
            found.add((int(match[1]), int(match[2]),
                       match[3].replace("{dir}", str(path.parent))))
    return found


def test_corpus_is_there():
    assert len(FILES) >= 20
    for path in FILES:
        assert re.match(r"^[0-9]{2}_[a-z0-9_]+\.yaml$", path.name), path.name
        assert expected(path), f"{path.name} has no '# expect:' line"
    numbers = [path.name[:2] for path in FILES]
    assert len(set(numbers)) == len(numbers), "two corpus files share a number"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_flow(path):
    flows, errors = load_flows(path)
    assert flows == {}, f"{path.name} loaded though it is broken"
    assert {e.file for e in errors} == {path}
    actual = {(e.line, e.column, e.message) for e in errors}
    assert len(actual) == len(errors), "the same error reported twice"
    assert actual == expected(path)
