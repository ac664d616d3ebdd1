"""Every message of the shared real-world corpus through the real ``frontdesk email ingest``.

The corpus lives beside the checkout (``../shared/corpus/mail``) and is never copied into the
repository. Each file must get exactly one outcome, and nothing may crash.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from inbound_helpers import REPO, json_lines, run_cli  # noqa: E402

from frontdesk.db import session  # noqa: E402
from frontdesk_email.models import InboundRecord  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "mail"
METADATA = {"MANIFEST.json", "README.md"}
OUTCOMES = {"created", "appended", "duplicate", "dropped", "rejected"}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        raise AssertionError(
            f"the mail corpus is missing: expected it at {CORPUS} (../shared/corpus/mail beside "
            "the checkout)"
        )
    top_level_metadata = {CORPUS / name for name in METADATA}
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p not in top_level_metadata)
    assert files, f"the mail corpus at {CORPUS} is empty"
    return files


def test_every_corpus_message_gets_exactly_one_outcome(app, tmp_path):
    files = corpus_files()
    result = run_cli(app, tmp_path, "email", "ingest", "--json", *map(str, files))
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    rows = json_lines(result.stdout)
    assert len(rows) == len(files)
    assert [row["file"] for row in rows] == [str(p) for p in files]
    assert {row["outcome"] for row in rows} <= OUTCOMES
    for row in rows:
        assert row["reason"], row
        record = session.get(InboundRecord, row["id"])
        assert record is not None and record.outcome == row["outcome"], row
    # Identical files are one delivery; every other file has its own record.
    assert len({row["id"] for row in rows}) == len({p.read_bytes() for p in files})
