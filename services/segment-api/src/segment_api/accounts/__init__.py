"""The account: its settings and plan."""
