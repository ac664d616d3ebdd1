"""Core tests use the fixtures of ``frontdesk.testing`` (loaded through its pytest11 entry point)."""
