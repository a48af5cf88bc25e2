"""Shared contracts of the segment platform: messages, topics, rule language, catalog.

Nothing here does I/O; every service and the gateway import these models so that
a message or a rule set means the same thing everywhere.
"""
