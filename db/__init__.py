"""Hotline's data: peewee models behind a DatabaseProxy, numbered migrations."""
