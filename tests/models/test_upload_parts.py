"""Stored upload parts read back in offset order: the chain from byte 0 is taken, so a part a
stalled writer stored late at an offset already covered is passed over."""

from __future__ import annotations

import hashlib
from pathlib import Path

from models.storage import LocalStorage
from models.upload import (
    iter_stored,
    parts_in_storage,
    sha256_stored,
    stored_head,
    stored_part_key,
    stored_parts,
)


def test_parts_join_in_offset_order_and_a_stale_duplicate_is_passed_over(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    upload = "abc123"
    storage.put_bytes(stored_part_key(upload, 4, "h.1.t2"), b"B" * 6)  # stored out of order
    storage.put_bytes(stored_part_key(upload, 0, "h.1.t1"), b"A" * 4)
    # a stalled writer's late part at offset 4 (its key sorts first) that leads nowhere
    storage.put_bytes(stored_part_key(upload, 4, "a.0.zz"), b"X" * 3)

    chain = stored_parts(storage, upload, 10)

    assert [(key.rpartition("/")[2], n) for key, n in chain] == [
        (f"{0:020d}.h.1.t1", 4),
        (f"{4:020d}.h.1.t2", 6),
    ]
    assert b"".join(iter_stored(storage, upload, 10)) == b"AAAABBBBBB"
    assert stored_head(storage, upload, 10) == b"AAAABBBBBB"
    assert sha256_stored(storage, upload, 10) == hashlib.sha256(b"AAAABBBBBB").hexdigest()


def test_only_shared_storage_keeps_parts(tmp_path: Path) -> None:
    assert not parts_in_storage(LocalStorage(tmp_path))
    assert not parts_in_storage(None)
