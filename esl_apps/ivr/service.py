"""The IVR inside `hotline run`: flows loaded and kept fresh, compiled for the
switch, and the business-hours flags the compiled branches read.

- Every `reload_seconds` the flows directory is checked; on a change the flows
  are reloaded (a broken file keeps its working version, see FlowSet), compiled
  into the switch's dialplan, and FreeSWITCH is told to `reloadxml`. Calls in
  progress keep the context version they started in.
- Once a minute, and whenever the event socket (re)connects, each schedule's
  open/closed state is pushed as the global variable hotline_open_<name>.
"""
import logging
import re

import gevent

from esl_apps.inbound import EslUnavailable
from esl_apps.ivr.compile import CompileError, compile_flows
from esl_apps.ivr.flowset import FlowSet

log = logging.getLogger(__name__)

SCHEDULE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def directory_state(path) -> tuple:
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                            for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
    except OSError:
        return ()


class IvrService:
    def __init__(self, flows_dir, prompts_dir, dialplan_dir, target, esl, hours, services,
                 native=True, reload_seconds=2.0):
        self.flows_dir = flows_dir
        self.flowset = FlowSet(flows_dir, prompts_dir=prompts_dir)
        self.dialplan_dir = dialplan_dir
        self.target = target
        self.esl = esl
        self.hours = hours
        self.services = services
        self.native = native
        self.reload_seconds = reload_seconds
        self._state = None
        self._greenlets = []

    def start(self):
        self.reload()
        self.esl.on_connect.append(self.push_hours)
        self._greenlets = [gevent.spawn(self._watch), gevent.spawn(self._minutely)]

    def stop(self):
        gevent.killall(self._greenlets)

    # flows -----------------------------------------------------------------
    def reload(self) -> list:
        self._state = directory_state(self.flows_dir)
        errors = self.flowset.reload()
        for error in errors:
            log.error("flow error: %s", error)
        if self.native:
            try:
                compile_flows(self.flowset.flows, self.target, self.dialplan_dir)
            except (CompileError, OSError) as exc:
                log.error("flows not compiled, the switch keeps the last version: %s", exc)
                return errors
            if self._switch("reloadxml"):
                log.info("compiled %d flow(s); the switch reloaded its XML",
                         len(self.flowset.flows))
        return errors

    def _watch(self):
        while True:
            gevent.sleep(self.reload_seconds)
            if directory_state(self.flows_dir) != self._state:
                log.info("flows changed in %s; reloading", self.flows_dir)
                self.reload()

    # business hours ----------------------------------------------------------
    def push_hours(self):
        if self.hours is None:
            return
        try:
            names = self.hours.schedules()
        except Exception:
            log.exception("cannot read the schedules")
            return
        for name in names:
            if not SCHEDULE_NAME.match(name):
                log.warning("schedule name %r cannot be a switch variable; skipped", name)
                continue
            try:
                value = "true" if self.services.is_open(name) else "false"
            except Exception:
                log.exception("business hours of %s", name)
                continue
            self._switch(f"global_setvar hotline_open_{name}={value}")

    def _minutely(self):
        while True:
            now = self.services.now()
            gevent.sleep(60.5 - now.second - now.microsecond / 1e6)
            self.push_hours()

    def _switch(self, command) -> bool:
        try:
            reply = self.esl.api(command, timeout=10)
        except EslUnavailable as exc:
            log.info("switch not reachable for %r (%s); it is applied on connect", command, exc)
            return False
        if reply.startswith("-ERR"):
            log.error("the switch refused %r: %s", command.split()[0], reply.strip())
            return False
        return True
