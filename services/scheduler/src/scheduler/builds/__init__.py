"""Builds: their one owner (`owner`), their state machine (`lifecycle`), planning what
starts now (`planning`, over the pure rules in `scheduler.graph`), refresh runs
(`refresh_runs`) and telling (`announce`)."""

from scheduler.builds.owner import BuildOwner

__all__ = ["BuildOwner"]
