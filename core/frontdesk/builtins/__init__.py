"""The core's own defaults, registered as plugins from ``BUILTIN_PLUGINS`` (see pluginmanager)."""
