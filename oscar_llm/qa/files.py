"""Reading the fitted files of product questions (the ranker, its tuned encoder): a data file and the JSON
saved beside it, which names the file's format and SHA-256 (no pickle anywhere)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def read_checked_meta(path: Path, meta_path: Path, fmt: int, what: str) -> dict[str, Any]:
    """The JSON saved beside ``path``, once both files are there and its format and SHA-256 match ``path``
    (``FileNotFoundError`` when they are missing, ``ValueError`` when they do not match)."""
    if not path.is_file() or not meta_path.is_file():
        raise FileNotFoundError(f"No fitted {what} in {path.parent}.")
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != fmt or hashlib.sha256(path.read_bytes()).hexdigest() != meta.get("sha256"):
        raise ValueError(f"{path} does not match {meta_path}: refit the ranker.")
    return meta
