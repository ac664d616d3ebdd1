"""Provider base classes and domain dataclasses (public API: import from the ``base`` module)."""
