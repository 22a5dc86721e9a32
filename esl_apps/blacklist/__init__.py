"""Blacklist and VIP whitelist, checked by the switch itself before the IVR.

- entries.py: the entries in the database and the mod_hash keys they become;
- numbers.py: how numbers and caller IDs are keyed (E.164 digits);
- service.py: the switch kept in step with the database inside `hotline run`;
- the check: dialplan/public/05_blacklist.xml; the log of blocked calls:
  webui/blocked.py (from each call's CDR); the commands: esl_apps/cli/blacklist_cmds.py.
"""
