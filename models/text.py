"""Text people typed that others will read: names, titles, file names, notes, comments.

Bidirectional control characters (U+202A-U+202E embeddings and overrides, U+2066-U+2069
isolates, the invisible marks U+200E, U+200F, U+061C) let a name display reversed or out of
order: `\u202egnp.exe` shows as `exe.png`. They are stripped, the one rule for every such text:
on the way in (what is stored is clean) and on the way out (rows stored before the rule, and
anything the API shows, go out clean too). Pages show text only from the API.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_bidi(text: str) -> str:
    return BIDI_CONTROLS.sub("", text)
