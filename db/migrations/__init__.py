"""Numbered migrations, applied by db.migrate (peewee's playhouse.migrations
runner). Each file holds frozen copies of the tables it creates, so a later
change to db/models.py never rewrites history."""
