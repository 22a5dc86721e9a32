"""The flows in service, and their reload: a broken edit never replaces a working flow.

`reload()` loads the directory again and swaps in, in one assignment, every
flow that loaded cleanly; a flow whose new version has errors keeps its previous
version. A flow whose subflow is not loaded (broken and never loaded before)
keeps its previous version too, or is left out, and so does a new version that
would close a subflow cycle with a previous version kept that way.
"""
import logging

from esl_apps.ivr.loader import (FlowError, cycle_message, flow_refs, load_flows,
                                 subflow_cycles)

log = logging.getLogger(__name__)


class FlowSet:
    def __init__(self, *paths, prompts_dir=None):
        self.paths = paths
        self.prompts_dir = prompts_dir
        self.flows: dict = {}

    def get(self, name):
        return self.flows.get(name)

    def by_did(self, number):
        for flow in self.flows.values():
            if number in flow.dids:
                return flow
        return None

    def reload(self) -> list[FlowError]:
        old = self.flows
        new, errors = load_flows(*self.paths, prompts_dir=self.prompts_dir)
        broken_files = {e.file.resolve() for e in errors}
        broken_names = {e.flow for e in errors if e.flow}
        merged = dict(new)
        for name, flow in old.items():
            if name not in merged and (name in broken_names
                                       or (flow.path and flow.path.resolve() in broken_files)):
                log.warning("flow %s has errors; keeping the version loaded before", name)
                merged[name] = flow
        while more := self._drop_dangling(merged, old) + self._break_cycles(merged, old):
            errors += more
        self.flows = merged
        log.info("loaded %d flow(s), %d error(s)", len(merged), len(errors))
        return errors

    @staticmethod
    def _break_cycles(merged, old) -> list[FlowError]:
        """load_flows refused every cycle among the new versions; a previous version
        kept can still close one with a new version, which then is not taken."""
        errors = []
        while True:
            cycles = [(name, where, way) for name, where, way in subflow_cycles(merged)
                      if merged[name] is not old.get(name)]
            if not cycles:
                return errors
            name, where, way = cycles[0]
            flow = merged[name]
            line, column = flow._locate(where)
            errors.append(FlowError(flow.path, line, column, cycle_message(where, way), name))
            if name in old:
                merged[name] = old[name]
            else:
                del merged[name]

    @staticmethod
    def _drop_dangling(merged, old) -> list[FlowError]:
        errors = []
        while True:
            dangling = [(name, where, target) for name, flow in merged.items()
                        for where, _kind, target in flow_refs(flow) if target not in merged]
            if not dangling:
                return errors
            name, where, target = dangling[0]
            flow = merged[name]
            line, column = flow._locate(where)
            errors.append(FlowError(flow.path, line, column,
                                    f"node '{where[1]}': flow '{target}' is not loaded",
                                    name))
            if name in old and old[name] is not flow:
                merged[name] = old[name]
            else:
                del merged[name]
