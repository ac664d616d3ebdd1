"""The core helpers the web form's pages use, from the public plugin API in one place."""

from __future__ import annotations

from frontdesk.services import validate_custom_fields
from frontdesk.ui import PAGE_CSP, RateLimited, check_rate_limit, csrf_exempt

__all__ = ["PAGE_CSP", "RateLimited", "check_rate_limit", "csrf_exempt", "validate_custom_fields"]
