"""What the repository ships besides code: benchmark records point only at files that are in it."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_benchmark_records_name_only_repo_files_by_relative_path():
    records = sorted((ROOT / "benchmarks" / "results").rglob("*.json"))
    assert records
    for record in records:
        for text in _strings(json.loads(record.read_text())):
            if text.endswith((".png", ".jpg", ".json", ".mp4")):
                assert not Path(text).is_absolute(), (record, text)
                assert (ROOT / text).is_file(), (record, text)
