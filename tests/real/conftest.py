"""Fixtures of the real-FreeSWITCH tier (marker `freeswitch`)."""
import pytest

from tests.real import sipp
from tests.real.baresip import baresip_binary
from tests.real.harness import RealSwitch, freeswitch_binary


def require_freeswitch():
    binary = freeswitch_binary()
    if not binary.is_file():
        pytest.skip(f"no FreeSWITCH binary at {binary}: build it by hand, see README")
    return binary


@pytest.fixture
def real_switch_factory(tmp_path):
    """Build (not start) RealSwitch instances; every one is stopped at teardown."""
    require_freeswitch()
    made = []

    def make(**kwargs):
        switch = RealSwitch(tmp_path / f"switch{len(made)}", **kwargs)
        made.append(switch)
        return switch

    yield make
    for switch in made:
        switch.close()


@pytest.fixture
def real_switch(real_switch_factory):
    """A started FreeSWITCH on Hotline's rendered config, with one agent and one DID."""
    switch = real_switch_factory(
        receive_cdrs=True,
        agents=[{"extension": "1001", "display_name": "Agent One",
                 "sip_password": "agent-1001-secret"}],
        dids=[{"number": "88001234", "flow": "main", "language": "zh_CN"}])
    return switch.start()


@pytest.fixture
def sip_phones():
    """Skip where the SIP peers the test drives are missing: SIPp callers, baresip agents."""
    if sipp.sipp_binary() is None:
        pytest.skip("SIPp not installed (apt-get install sip-tester)")
    if baresip_binary() is None:
        pytest.skip("baresip not installed (apt-get install baresip)")
