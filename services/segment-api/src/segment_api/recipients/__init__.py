"""Recipient lists (Send Campaign): their routes, use cases and SQL."""
