"""What every provider has in common: a stable ``key`` and a lazily translated ``label``."""

from __future__ import annotations

from typing import Any, ClassVar


class Provider:
    """Base of channels, routing strategies, SLA policies, search backends and CRM connectors.

    ``key`` is stable (config and stored data refer to it); ``label`` is shown to people. The core
    fills ``plugin_name`` with the name of the plugin that registered the provider.
    """

    kind: ClassVar[str] = "provider"
    key: ClassVar[str] = ""
    label: ClassVar[Any] = ""
    plugin_name: ClassVar[str] = ""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = config or {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}:{self.key}>"
