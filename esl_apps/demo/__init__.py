"""Demo mode: Hotline on a demo switch instead of FreeSWITCH, for a first look.

`hotline run --demo` starts it; `hotline run --demo-if-no-switch` (what
packaging/dev-run, the README's first command, runs) starts it only when
FreeSWITCH's event socket cannot be reached at start. A plain `hotline run` never
does: an appliance whose switch comes up after Hotline keeps waiting for it.

In demo mode every Hotline service runs as usual (esl_apps.main.Services), on a
copy of the config pointed away from anything real:

- the event socket is the demo switch (esl_apps.demo.switch) on a free loopback
  port with a generated password; the configured FreeSWITCH is never contacted,
  so a real switch that appears later is not mixed up with demo calls: restart
  Hotline without --demo to use it;
- the database is DATA_DIR/demo/hotline.db, made afresh at every demo start
  (esl_apps.demo.data), and the other data directories are under DATA_DIR/demo;
- the call socket listens on a free port no switch knows, and /api/cdr takes
  only the demo switch's generated password.

The demo switch places the sample calls (esl_apps.demo.calls) through the sample
flows to the demo agent; the panel shows a demo banner on every page
(HOTLINE_DEMO) and /healthz says "mode": "demo".
"""
