"""Runtime plumbing shared by the platform's services (several need each piece)."""
