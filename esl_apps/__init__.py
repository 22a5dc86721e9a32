"""Hotline's daemons: the outbound-ESL call apps, the inbound client, the CLI."""
