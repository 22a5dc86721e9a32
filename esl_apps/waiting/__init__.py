"""The caller in the queue: hold music, position and estimated-wait announcements
with the callback offer, and the sticky agent.

moh.py       hold music (asterisk-moh-opsound-wav) converted for mod_local_stream
say.py       the say files a number is spoken with (mod_say's rules, small numbers)
announce.py  positions, the wait estimate and the announcement's file list (pure)
sticky.py    the caller's last agent and whether to offer the call to it first
service.py   the service in `hotline run` that drives them from callcenter::info
"""
