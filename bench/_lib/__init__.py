"""Helpers shared by the benchmark scripts in ``bench/`` (servers, load tool, fixtures, reports).

Nothing here runs on import; the scripts next to this package are the entry points.
"""
