"""Work orders (issue 7): the workflow (workflow.py), SLA deadlines in business
hours (calendar.py, sla.py) with timers that fire once (timers.py), the
operations (service.py), notifications (notices.py), photo storage (storage.py)
and report figures (figures.py). The panel's pages are webui.workorders.

Running it:
- roles: agents and supervisors make and dispatch orders and do revisits; field
  workers (role "field": `hotline user add NAME --role field`) use /workorders/mine;
  supervisors approve extensions; admins edit /workorders/settings (workflow,
  SLA limits, departments and their members, the service catalogue).
- SLA deadlines count the business hours of the rule's schedule, else the
  workflow's (Admin → Business hours edits the schedules and holidays, 调休
  included); seeded: "default" for everything, "24h" for urgent repairs.
- `hotline run` fires the SLA timers every 30 s (esl_apps.jobs.sla_timers); the
  notifications go through esl_apps.notify (e-mail/SMS to department members'
  and duty desks' addresses, plus [notify] default_recipients).
- photos are kept under <paths.data_dir>/workorders/<order id>/.
"""
