"""Every route of the API against every role and ownership case, with the status each must get.

The world (tests/api/conftest.py): ect_a owns lesson_a, paired with `mentor`; ect_b owns lesson_b,
paired with `mentor_b`; a coach and an admin. On lesson_a, `mentor` made four clips: one shared
with ect_a, one whose share expired, one whose share was revoked, one never shared; ect_a made two
of their own (self-reflection): `clip_self`, private, and `clip_self_shared`, shared with their
mentor. Each clip has one comment by its author; `mentor` also commented on the whole of lesson_a
(`comment_lesson_a`) and set ect_a an open action step (`step_a`). Rows that name
them add the coach's batch `batch_c` holding lesson_c, which the coach submitted (case
`batch_coach` of every lesson route).

Anything the caller may not see is 404 (never 403, so ids reveal nothing); 403 is only for a
thing the caller sees but whose change their role does not allow. A route added to the app
without rows here fails `test_matrix_covers_every_route`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from api.app import create_app
from tests.api.conftest import PASSWORD, Media, World, add_model_practice, store_artefacts

LESSON_CASES = {
    "anonymous": "anonymous",
    "own": "ect_a",
    "paired": "mentor",
    "unrelated_ect": "ect_b",
    "unrelated_mentor": "mentor_b",
    "coach": "coach",
    "admin": "admin",
}
CLIP_CASES = {
    "anonymous": ("anonymous", "clip_shared"),
    "shared": ("ect_a", "clip_shared"),
    "expired_share": ("ect_a", "clip_expired"),
    "revoked_share": ("ect_a", "clip_revoked"),
    "unshared": ("ect_a", "clip_draft"),
    "paired": ("mentor", "clip_shared"),
    "unrelated_ect": ("ect_b", "clip_shared"),
    "unrelated_mentor": ("mentor_b", "clip_shared"),
    "coach": ("coach", "clip_shared"),
    "admin": ("admin", "clip_shared"),
    "own_reflection": ("ect_a", "clip_self"),
    "own_reflection_shared": ("ect_a", "clip_self_shared"),
    "reflection_unshared_mentor": ("mentor", "clip_self"),
    "reflection_shared_mentor": ("mentor", "clip_self_shared"),
    "reflection_unrelated_mentor": ("mentor_b", "clip_self_shared"),
    "reflection_unrelated_ect": ("ect_b", "clip_self_shared"),
    "reflection_admin": ("admin", "clip_self_shared"),
}
# a comment is seen with the clip or lesson it is on; only its author changes it
COMMENT_CASES = {
    "anonymous": ("anonymous", "comment_clip_shared"),
    "author": ("mentor", "comment_clip_shared"),
    "reader": ("ect_a", "comment_clip_shared"),
    "revoked_share": ("ect_a", "comment_clip_revoked"),
    "unrelated_ect": ("ect_b", "comment_clip_shared"),
    "unrelated_mentor": ("mentor_b", "comment_clip_shared"),
    "coach": ("coach", "comment_clip_shared"),
    "admin": ("admin", "comment_clip_shared"),
    "own_reflection": ("ect_a", "comment_clip_self"),
    "reflection_unshared_mentor": ("mentor", "comment_clip_self"),
    "reflection_shared_mentor": ("mentor", "comment_clip_self_shared"),
    "lesson_author": ("mentor", "comment_lesson_a"),
    "lesson_owner": ("ect_a", "comment_lesson_a"),
    "lesson_unrelated_ect": ("ect_b", "comment_lesson_a"),
    "lesson_unrelated_mentor": ("mentor_b", "comment_lesson_a"),
    "lesson_coach": ("coach", "comment_lesson_a"),
    "lesson_admin": ("admin", "comment_lesson_a"),
}
# a collection (made in the row's world by `_add_collections`): `mentor` made three of clip_draft,
# one shared with ect_a, one whose share was revoked, one never shared
COLLECTION_CASES = {
    "anonymous": ("anonymous", "collection_shared"),
    "owner": ("mentor", "collection_shared"),
    "shared": ("ect_a", "collection_shared"),
    "revoked_share": ("ect_a", "collection_revoked"),
    "unshared": ("ect_a", "collection_unshared"),
    "unrelated_ect": ("ect_b", "collection_shared"),
    "unrelated_mentor": ("mentor_b", "collection_shared"),
    "coach": ("coach", "collection_shared"),
    "admin": ("admin", "collection_shared"),
}
# model practice (`add_model_practice` in tests/api/conftest.py, added in the row's world):
# clips of `mentor`'s own lesson_m; ect_b and ect_c are in group_g, ect_a is not (ect_a has
# clip_model_paired shared directly and clip_model_revoked no longer); clip_model_library is in
# the school's library; clip_model_unmarked is not model practice
MODEL_CASES = {
    "model_anonymous": ("anonymous", "clip_model_group"),
    "model_owner": ("mentor", "clip_model_group"),
    "model_group_member": ("ect_b", "clip_model_group"),
    "model_group_member_c": ("ect_c", "clip_model_group"),
    "model_not_in_group": ("ect_a", "clip_model_group"),
    "model_paired_recipient": ("ect_a", "clip_model_paired"),
    "model_revoked_recipient": ("ect_a", "clip_model_revoked"),
    "model_library_ect": ("ect_a", "clip_model_library"),
    "model_library_mentor": ("mentor_b", "clip_model_library"),
    "model_library_coach": ("coach", "clip_model_library"),
    "model_other_mentor": ("mentor_b", "clip_model_group"),
    "model_coach": ("coach", "clip_model_group"),
    "model_admin": ("admin", "clip_model_group"),
    "model_admin_library": ("admin", "clip_model_library"),
    "model_admin_unmarked": ("admin", "clip_model_unmarked"),
    "model_unmarked_owner": ("mentor", "clip_model_unmarked"),
    "model_unmarked_ect": ("ect_a", "clip_model_unmarked"),
}
MODEL_VIEWERS = (
    "model_group_member",
    "model_group_member_c",
    "model_paired_recipient",
    "model_library_ect",
    "model_library_mentor",
    "model_library_coach",
)
# ECT groups: group_g is `mentor`'s (ect_b, ect_c), group_admin the admin's, school-wide
GROUP_CASES = {
    "anonymous": ("anonymous", "group_g"),
    "owner": ("mentor", "group_g"),
    "admin": ("admin", "group_g"),
    "other_mentor": ("mentor_b", "group_g"),
    "member_ect": ("ect_b", "group_g"),
    "ect": ("ect_a", "group_g"),
    "coach": ("coach", "group_g"),
    "school_group_mentor": ("mentor_b", "group_admin"),
    "school_group_member": ("ect_a", "group_admin"),
}
# an ECT's own clip: theirs to change and share; their mentor sees it only once shared
OWN = {"own_reflection": 200, "own_reflection_shared": 200}
SEEN_BY_MENTOR = {**OWN, "reflection_shared_mentor": 200}
ACTORS = {
    "anonymous": "anonymous",
    "ect": "ect_a",
    "mentor": "mentor",
    "coach": "coach",
    "admin": "admin",
}

Body = Callable[[World, dict[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    case: str
    actor: str
    targets: tuple[tuple[str, str], ...]
    status: int

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} [{self.case}] -> {self.status}"


ROWS: list[Row] = []


def lesson_route(
    method: str,
    path: str,
    *,
    anonymous: int = 401,
    unrelated: int = 404,
    batch_coach: int | None = None,
    **statuses: int,
) -> None:
    """Rows for a route about lesson_a; give own/paired/coach/admin, the rest have defaults.

    Plus the coach on lesson_c from their own batch, answered as its owner is by default."""
    table = {
        "anonymous": anonymous,
        "unrelated_ect": unrelated,
        "unrelated_mentor": unrelated,
        "coach": 404,
        **statuses,
    }
    for case, status in table.items():
        ROWS.append(
            Row(method, path, case, LESSON_CASES[case], (("lesson_id", "lesson_a"),), status)
        )
    status = statuses["own"] if batch_coach is None else batch_coach
    ROWS.append(Row(method, path, "batch_coach", "coach", (("lesson_id", "lesson_c"),), status))


def clip_route(method: str, path: str, **statuses: int) -> None:
    """Rows for a route about a clip of lesson_a: give shared/paired, the rest default to 404."""
    table = {case: 404 for case in CLIP_CASES} | {"anonymous": 401} | statuses
    for case, status in table.items():
        actor, clip = CLIP_CASES[case]
        targets = (
            ("clip_id", clip),
            ("share_id", f"share_{clip}"),
            ("model_share_id", f"share_{clip}"),  # no such model share: refused before it
        )
        ROWS.append(Row(method, path, case, actor, targets, status))


def comment_route(method: str, path: str, ok: int) -> None:
    """Rows for changing a comment: its author may (`ok`); a reader of it 403; others 404."""
    table = {case: 404 for case in COMMENT_CASES} | {"anonymous": 401}
    for case in ("author", "own_reflection", "lesson_author"):
        table[case] = ok
    for case in ("reader", "reflection_shared_mentor", "lesson_owner"):
        table[case] = 403
    for case, status in table.items():
        actor, comment = COMMENT_CASES[case]
        ROWS.append(Row(method, path, case, actor, (("comment_id", comment),), status))


def collection_route(method: str, path: str, **statuses: int) -> None:
    """Rows for a route about a collection: give owner/shared, the rest default to 404."""
    table = {case: 404 for case in COLLECTION_CASES} | {"anonymous": 401} | statuses
    for case, status in table.items():
        actor, collection = COLLECTION_CASES[case]
        targets = (("collection_id", collection), ("ect_id", "@ect_a"))
        ROWS.append(Row(method, path, case, actor, targets, status))


def model_route(
    method: str,
    path: str,
    *,
    viewer: int,
    owner: int,
    unmarked_owner: int | None = None,
    **statuses: int,
) -> None:
    """Rows for a clip route on model clips: `viewer` for each ECT or adult the clip is shown
    to, `owner` for its teacher; everyone else 404 unless given."""
    table = {case: 404 for case in MODEL_CASES} | {"model_anonymous": 401}
    table |= {case: viewer for case in MODEL_VIEWERS}
    table |= {"model_owner": owner, "model_unmarked_owner": owner}
    if unmarked_owner is not None:
        table["model_unmarked_owner"] = unmarked_owner
    table |= statuses
    for case, status in table.items():
        actor, clip = MODEL_CASES[case]
        targets = (
            ("clip_id", clip),
            ("share_id", f"share_{clip}"),
            ("model_share_id", clip.replace("clip_", "share_")),
        )
        ROWS.append(Row(method, path, case, actor, targets, status))


def group_route(method: str, path: str, *, owner: int, school_group_mentor: int) -> None:
    """Rows for a route about an ECT group: its maker and admins; a mentor also sees an admin's
    (school-wide) group but may not change it; ECTs and coaches see none."""
    table = {case: 404 for case in GROUP_CASES} | {"anonymous": 401}
    table |= {"owner": owner, "admin": owner, "school_group_mentor": school_group_mentor}
    for case, status in table.items():
        actor, group = GROUP_CASES[case]
        ROWS.append(Row(method, path, case, actor, (("group_id", group),), status))


def plain_route(
    method: str, path: str, targets: tuple[tuple[str, str], ...] = (), /, **statuses: int
) -> None:
    for case, status in statuses.items():
        ROWS.append(Row(method, path, case, ACTORS[case], targets, status))


V1 = "/api/v1"
L = f"{V1}/lessons/{{lesson_id}}"
C = f"{V1}/clips/{{clip_id}}"
UP = (("upload_id", "upload_a"),)

plain_route("GET", f"{V1}/health", anonymous=200, ect=200)
plain_route("POST", f"{V1}/auth/token", anonymous=200)
plain_route("POST", f"{V1}/auth/logout", anonymous=401, ect=204, admin=204)
plain_route("GET", f"{V1}/auth/me", anonymous=401, ect=200, mentor=200, coach=200, admin=200)
plain_route("POST", f"{V1}/uploads", anonymous=401, ect=201, mentor=201, coach=201, admin=403)
for method, ok in (("HEAD", 200), ("GET", 200), ("DELETE", 204), ("PATCH", 200)):
    plain_route(
        method,
        f"{V1}/uploads/{{upload_id}}",
        UP,
        anonymous=401,
        ect=ok,
        mentor=404,
        coach=404,
        admin=404,
    )
    ROWS.append(Row(method, f"{V1}/uploads/{{upload_id}}", "unrelated_ect", "ect_b", UP, 404))
# upload_a is not finished: its owner gets 409, anyone else never learns it exists
plain_route("POST", f"{V1}/lessons", UP, anonymous=401, ect=409, mentor=404, coach=404, admin=403)
ROWS.append(Row("POST", f"{V1}/lessons", "unrelated_ect", "ect_b", UP, 404))
plain_route("GET", f"{V1}/lessons", anonymous=401, ect=200, mentor=200, coach=200, admin=200)

lesson_route("GET", L, own=200, paired=200, admin=200)
lesson_route("DELETE", L, own=204, paired=403, admin=204)
lesson_route("POST", f"{L}/retry", own=409, paired=403, admin=409)  # lesson_a is ready
for part in (
    "transcript",
    "segments",
    "analytics",
    "thumbnails.vtt",
    "poster.jpg",
    "sprite.jpg",
    "media",
    "media-links",
):
    lesson_route("GET", f"{L}/{part}", own=200, paired=200, admin=403)
lesson_route("PATCH", L, own=200, paired=200, admin=403)
# suggestions for an unsaved range: for those who may clip the lesson
lesson_route("GET", f"{L}/suggested-strands", own=200, paired=200, admin=403)
lesson_route("GET", f"{L}/transcriptions", own=200, paired=200, admin=403)
lesson_route("PUT", f"{L}/consent", own=200, paired=403, admin=200)
# the world's school keeps lessons (retention_days 0): those allowed are told so
lesson_route("PUT", f"{L}/keep-until", own=409, paired=403, admin=409)
# transcripts kept longer: an admin's call only (409 retention_off here, as above)
lesson_route("PUT", f"{L}/transcript-keep-until", own=403, paired=403, admin=409)
# research exports: for those who read the transcript, of lessons whose consent covers research
# (lesson_a's does; lesson_b's and lesson_c's do not: 409 for those who could read them)
for fmt in ("eaf", "TextGrid", "csv"):
    lesson_route("GET", f"{L}/export.{fmt}", own=200, paired=200, admin=403, batch_coach=409)
    for case, actor in (("excluded_owner", "ect_b"), ("excluded_mentor", "mentor_b")):
        ROWS.append(Row("GET", f"{L}/export.{fmt}", case, actor, (("lesson_id", "lesson_b"),), 409))
# blanked moments: times only, seen with the lesson; marked by the owner, their mentor, an admin
lesson_route("GET", f"{L}/blanks", own=200, paired=200, admin=200)
lesson_route("POST", f"{L}/blanks", own=201, paired=201, admin=201)
for case, status in {
    "anonymous": 401, "own": 204, "paired": 204, "admin": 204,
    "unrelated_ect": 404, "unrelated_mentor": 404, "coach": 404,
}.items():  # fmt: skip
    ROWS.append(
        Row(
            "DELETE",
            f"{L}/blanks/{{blank_id}}",
            case,
            LESSON_CASES[case],
            (("lesson_id", "lesson_a"), ("blank_id", "blank_a")),
            status,
        )
    )
ROWS.append(
    Row(
        "DELETE",
        f"{L}/blanks/{{blank_id}}",
        "batch_coach",
        "coach",
        (("lesson_id", "lesson_c"), ("blank_id", "blank_a")),
        404,  # blank_a is lesson_a's, not lesson_c's
    )
)
lesson_route("POST", f"{L}/transcriptions", own=202, paired=202, admin=403)
lesson_route("POST", f"{L}/transcript/corrections", own=201, paired=201, admin=403)
# version 1 is the current transcript: those allowed to revert are told so (409)
lesson_route("POST", f"{L}/transcript/reverts", own=409, paired=409, admin=403)

plain_route(
    "POST",
    f"{V1}/clips",
    (("lesson_id", "lesson_a"),),
    anonymous=401,
    ect=201,
    mentor=201,
    coach=404,
    admin=403,
)
ROWS.append(Row("POST", f"{V1}/clips", "unrelated_ect", "ect_b", (("lesson_id", "lesson_a"),), 404))
ROWS.append(
    Row("POST", f"{V1}/clips", "unrelated_mentor", "mentor_b", (("lesson_id", "lesson_a"),), 404)
)
plain_route("GET", f"{V1}/clips", anonymous=401, ect=200, mentor=200, coach=200, admin=200)

for path in (
    C,
    f"{C}/media",
    f"{C}/captions.vtt",
    f"{C}/transcript",
    f"{C}/analytics",
    f"{C}/media-links",
    f"{C}/tags",
    f"{C}/suggested-strands",
    f"{C}/comments",
):
    clip_route("GET", path, shared=200, paired=200, **SEEN_BY_MENTOR)
clip_route("GET", C, shared=200, paired=200, unshared=404, **SEEN_BY_MENTOR)
clip_route("PATCH", C, shared=403, paired=200, **OWN, reflection_shared_mentor=403)
clip_route(
    "DELETE",
    C,
    shared=403,
    paired=204,
    own_reflection=204,
    own_reflection_shared=204,
    reflection_shared_mentor=403,
)
clip_route("POST", f"{C}/tags", shared=403, paired=200, **OWN, reflection_shared_mentor=403)
clip_route(
    "DELETE",
    f"{C}/tags/{{strand_id}}",
    shared=403,
    paired=204,
    own_reflection=204,
    own_reflection_shared=204,
    reflection_shared_mentor=403,
)
clip_route(
    "POST",
    f"{C}/comments",
    shared=201,
    paired=201,
    own_reflection=201,
    own_reflection_shared=201,
    reflection_shared_mentor=201,
)
clip_route("GET", f"{C}/shares", shared=403, paired=200, **OWN, reflection_shared_mentor=403)
# a mentor's share goes to the lesson's owner; the owner's own clip goes to their mentor instead
clip_route(
    "POST",
    f"{C}/shares",
    shared=403,
    paired=201,
    own_reflection=403,
    own_reflection_shared=403,
    reflection_shared_mentor=403,
)
clip_route(
    "DELETE",
    f"{C}/shares/{{share_id}}",
    shared=403,
    paired=204,
    own_reflection=404,  # clip_self has no share to revoke
    own_reflection_shared=204,
    reflection_shared_mentor=403,
)
clip_route(
    "POST",
    f"{C}/share-with-mentor",
    shared=403,
    paired=403,
    own_reflection=201,
    own_reflection_shared=201,
    reflection_shared_mentor=403,
)

# collections: made by a mentor of clips they may share; seen by its maker and, while shared, by
# the ECT it is shared with (only its maker changes or shares it)
CO = f"{V1}/collections/{{collection_id}}"
DRAFT = (("clip_id", "clip_draft"),)
plain_route(
    "POST", f"{V1}/collections", DRAFT,
    anonymous=401, ect=403, mentor=201, coach=403, admin=403,
)  # fmt: skip
ROWS.append(Row("POST", f"{V1}/collections", "unrelated_mentor", "mentor_b", DRAFT, 404))
plain_route("GET", f"{V1}/collections", anonymous=401, ect=200, mentor=200, coach=200, admin=200)
collection_route("GET", CO, owner=200, shared=200)
collection_route("PATCH", CO, owner=200, shared=403)
collection_route("DELETE", CO, owner=204, shared=403)
collection_route("PUT", f"{CO}/items", owner=200, shared=403)
collection_route("POST", f"{CO}/shares", owner=201, shared=403)
collection_route("DELETE", f"{CO}/shares/{{ect_id}}", owner=204, shared=403)

# class lists (models/pupilnames.py): a teacher keeps their own, an admin the school's; only the
# keeper reads or changes a list. `name_a` is on ect_a's list, `name_b` on ect_b's, `name_school`
# on the school's (made by `_add_pupil_names`)
PN = f"{V1}/pupil-names"
MINE, SCHOOL = (("scope", "mine"),), (("scope", "school"),)
KEEPERS = {"anonymous": 401, "ect": 200, "mentor": 200, "coach": 200, "admin": 403}
plain_route("GET", PN, MINE, **KEEPERS)
plain_route("POST", PN, MINE, **(KEEPERS | {"ect": 201, "mentor": 201, "coach": 201}))
for method, ok in (("GET", 200), ("POST", 201)):
    for case, status in {"ect": 403, "mentor": 403, "coach": 403, "admin": ok}.items():
        ROWS.append(Row(method, PN, f"school_{case}", ACTORS[case], SCHOOL, status))
for method, ok in (("PATCH", 200), ("DELETE", 204)):
    for case, actor, name, status in (
        ("anonymous", "anonymous", "name_a", 401),
        ("own", "ect_a", "name_a", ok),
        ("paired_mentor", "mentor", "name_a", 404),
        ("unrelated_ect", "ect_b", "name_a", 404),
        ("coach", "coach", "name_a", 404),
        ("admin_on_teachers_list", "admin", "name_a", 404),
        ("other_list_own", "ect_b", "name_b", ok),
        ("school_admin", "admin", "name_school", ok),
        ("school_ect", "ect_a", "name_school", 404),
        ("school_mentor", "mentor", "name_school", 404),
    ):
        ROWS.append(Row(method, f"{PN}/{{name_id}}", case, actor, (("name_id", name),), status))


# model practice on the existing clip routes: those it is shown to watch it and comment;
# only its teacher changes, tags or deletes it; it goes to ECTs by model shares, never by /shares
for path in (
    C,
    f"{C}/media",
    f"{C}/captions.vtt",
    f"{C}/transcript",
    f"{C}/analytics",
    f"{C}/media-links",
    f"{C}/tags",
    f"{C}/suggested-strands",
    f"{C}/comments",
):
    model_route("GET", path, viewer=200, owner=200)
model_route("PATCH", C, viewer=403, owner=200)
model_route("DELETE", C, viewer=403, owner=204)
model_route("POST", f"{C}/tags", viewer=403, owner=200)
model_route("DELETE", f"{C}/tags/{{strand_id}}", viewer=403, owner=204)
model_route("POST", f"{C}/comments", viewer=201, owner=201)
model_route("GET", f"{C}/shares", viewer=403, owner=200)
model_route("POST", f"{C}/shares", viewer=403, owner=403)
model_route("DELETE", f"{C}/shares/{{share_id}}", viewer=403, owner=404)
model_route("POST", f"{C}/share-with-mentor", viewer=403, owner=409)

# model practice routes. On the standard world every clip is of an ECT's lesson: marking it or
# sharing it as model practice is refused (409) for anyone who sees it, whoever they are
ECT_LESSON = {
    case: 409
    for case in (
        "shared",
        "paired",
        "own_reflection",
        "own_reflection_shared",
        "reflection_shared_mentor",
    )
}
MARK = f"{C}/model"
SHARES = f"{C}/model-shares"
for method, path, owner, unmarked in (
    ("PUT", MARK, 200, 200),
    ("DELETE", MARK, 204, 404),
    ("GET", SHARES, 200, 200),
    ("POST", SHARES, 201, 409),
    ("DELETE", f"{SHARES}/{{model_share_id}}", 204, 404),
):
    clip_route(method, path, **ECT_LESSON)
    model_route(method, path, viewer=403, owner=owner, unmarked_owner=unmarked)
# the library is an admin's: publishing needs the teacher's mark (409 without), never an ECT's
# (PUT: clip_model_group and clip_model_library are published, clip_model_unmarked refused;
# DELETE: only clip_model_library is in the library)
for method, marked, published in (("PUT", 200, 200), ("DELETE", 404, 204)):
    clip_route(
        method, f"{C}/library",
        shared=403, paired=403, own_reflection=403, own_reflection_shared=403,
        reflection_shared_mentor=403, admin=409, reflection_admin=409,
    )  # fmt: skip
    model_route(
        method, f"{C}/library",
        viewer=403, owner=403,
        model_admin=marked, model_admin_library=published, model_admin_unmarked=409,
    )  # fmt: skip
plain_route("GET", f"{V1}/model-clips", anonymous=401, ect=200, mentor=200, coach=200, admin=200)

# ECT groups
G = f"{V1}/ect-groups/{{group_id}}"
plain_route("POST", f"{V1}/ect-groups", anonymous=401, ect=403, mentor=201, coach=403, admin=201)
plain_route("GET", f"{V1}/ect-groups", anonymous=401, ect=200, mentor=200, coach=200, admin=200)
group_route("GET", G, owner=200, school_group_mentor=200)
group_route("PATCH", G, owner=200, school_group_mentor=403)
group_route("DELETE", G, owner=204, school_group_mentor=403)
group_route("PUT", f"{G}/members", owner=200, school_group_mentor=403)

# lesson comments: for whoever reads the lesson's transcript (not an admin, not another ECT)
lesson_route("GET", f"{L}/comments", own=200, paired=200, admin=403)
lesson_route("POST", f"{L}/comments", own=201, paired=201, admin=403)
comment_route("PATCH", f"{V1}/comments/{{comment_id}}", 200)
comment_route("DELETE", f"{V1}/comments/{{comment_id}}", 204)

# action steps: the ECT, their paired mentor and admins see them; the mentor (or an admin)
# sets and reviews them, the ECT alone marks one practised
S = f"{V1}/action-steps/{{step_id}}"
STEP = (("step_id", "step_a"),)
FOR_A = (("ect_id", "@ect_a"),)
plain_route("GET", f"{V1}/action-steps", anonymous=401, ect=200, mentor=200, coach=200, admin=200)
plain_route(
    "POST", f"{V1}/action-steps", FOR_A, anonymous=401, ect=403, mentor=201, coach=403, admin=201
)
for actor, status in (("ect_b", 403), ("mentor_b", 404)):
    ROWS.append(Row("POST", f"{V1}/action-steps", f"unrelated_{actor}", actor, FOR_A, status))
plain_route(
    "GET", f"{V1}/observation-schedule", FOR_A,
    anonymous=401, ect=200, mentor=200, coach=404, admin=200,
)  # fmt: skip
for method, path, ect, mentor, admin in (
    ("GET", S, 200, 200, 200),
    ("PATCH", S, 403, 200, 200),
    ("POST", f"{S}/practised", 200, 403, 403),
    ("POST", f"{S}/close", 403, 200, 200),
    ("POST", f"{S}/carry", 403, 201, 201),
):
    plain_route(method, path, STEP, anonymous=401, ect=ect, mentor=mentor, coach=404, admin=admin)
    for actor in ("ect_b", "mentor_b"):
        ROWS.append(Row(method, path, f"unrelated_{actor}", actor, STEP, 404))
for actor in ("ect_b", "mentor_b"):
    ROWS.append(Row("GET", f"{V1}/observation-schedule", f"unrelated_{actor}", actor, FOR_A, 404))

# progress: the ECT, their paired mentor and admins (the induction lead); 404 for anyone else
for part in ("progress", "progress.csv"):
    path = f"{V1}/ects/{{user_id}}/{part}"
    A = (("user_id", "@ect_a"),)
    plain_route("GET", path, A, anonymous=401, ect=200, mentor=200, coach=404, admin=200)
    for actor in ("ect_b", "mentor_b"):
        ROWS.append(Row("GET", path, f"unrelated_{actor}", actor, A, 404))
    ROWS.append(Row("GET", path, "not_an_ect", "admin", (("user_id", "@mentor"),), 404))

# notifications: everyone signed in has their own (derived through the rules above)
EVERYONE = {"anonymous": 401, "ect": 200, "mentor": 200, "coach": 200, "admin": 200}
for method, path in (
    ("GET", f"{V1}/notifications"),
    ("POST", f"{V1}/notifications/read"),
    ("POST", f"{V1}/notifications/read-all"),
):
    plain_route(method, path, **EVERYONE)

plain_route("GET", f"{V1}/search", anonymous=401, ect=200, mentor=200, coach=200, admin=200)
plain_route("GET", f"{V1}/feed", anonymous=401, ect=200, mentor=200, coach=200, admin=200)
plain_route("GET", f"{V1}/frameworks", anonymous=401, ect=200, mentor=200, admin=200)
plain_route(
    "GET",
    f"{V1}/frameworks/{{framework_id}}/strands",
    (("framework_id", "ecf-2019"),),
    anonymous=401,
    ect=200,
    mentor=200,
)

ADMIN = {"anonymous": 401, "ect": 403, "mentor": 403, "coach": 403}
plain_route("GET", f"{V1}/admin/users", **ADMIN, admin=200)
plain_route("POST", f"{V1}/admin/users", **ADMIN, admin=201)
plain_route("PATCH", f"{V1}/admin/users/{{user_id}}", (("user_id", "@ect_b"),), **ADMIN, admin=200)
plain_route(
    "GET", f"{V1}/admin/users/{{user_id}}/export", (("user_id", "@ect_b"),), **ADMIN, admin=200
)
plain_route(
    "POST", f"{V1}/admin/users/{{user_id}}/erase", (("user_id", "@ect_b"),), **ADMIN, admin=200
)
plain_route("GET", f"{V1}/admin/policy", **ADMIN, admin=200)
plain_route("GET", f"{V1}/admin/pairings", **ADMIN, admin=200)
plain_route("POST", f"{V1}/admin/pairings", **ADMIN, admin=201)
plain_route(
    "DELETE",
    f"{V1}/admin/pairings/{{pairing_id}}",
    (("pairing_id", "pairing"),),
    **ADMIN,
    admin=204,
)
plain_route("GET", f"{V1}/admin/audit", **ADMIN, admin=200)
plain_route("GET", f"{V1}/admin/research-export.zip", **ADMIN, admin=200)

# batches: the coach's upload makes a batch; only its submitter ever sees a batch
plain_route("POST", f"{V1}/batches", anonymous=401, ect=403, mentor=403, coach=201, admin=404)
plain_route("GET", f"{V1}/batches", anonymous=401, ect=200, mentor=200, coach=200, admin=200)
for part in ("", "/transcripts.zip", "/research-export.zip"):
    plain_route(
        "GET",
        f"{V1}/batches/{{batch_id}}{part}",
        (("batch_id", "batch_c"),),
        anonymous=401,
        ect=404,
        mentor=404,
        coach=200,
        admin=404,
    )
plain_route(
    "GET", f"{V1}/batches/folders", anonymous=401, ect=403, mentor=403, coach=200, admin=200
)
# retrying: batch_c's lesson is ready (nothing to retry), batch_f's failed; only the submitter
for key, coach in (("batch_c", 409), ("batch_f", 202)):
    for case, status in {"anonymous": 401, "ect": 404, "mentor": 404, "admin": 404}.items():
        ROWS.append(
            Row("POST", f"{V1}/batches/{{batch_id}}/retry", f"{case}_{key}", ACTORS[case],
                (("batch_id", key),), status)
        )  # fmt: skip
    ROWS.append(
        Row("POST", f"{V1}/batches/{{batch_id}}/retry", f"coach_{key}", "coach",
            (("batch_id", key),), coach)
    )  # fmt: skip
ROWS.append(
    Row("POST", f"{V1}/batches/{{batch_id}}/retry", "anonymous", "anonymous",
        (("batch_id", "batch_c"),), 401)
)  # fmt: skip


def _mp4_head(world: World, size: int) -> bytes:
    return world.storage.get_bytes(f"lessons/{world.ids['lesson_a']}/lesson.mp4")[:size]


BODIES: dict[tuple[str, str], Body] = {
    ("GET", f"{V1}/pupil-names"): lambda w, ids: {"params": {"scope": ids["scope"]}},
    ("POST", f"{V1}/pupil-names"): lambda w, ids: {
        "json": {"name": "Jayden", "scope": ids["scope"]}
    },
    ("PATCH", f"{V1}/pupil-names/{{name_id}}"): lambda w, ids: {"json": {"name": "Aysha"}},
    ("POST", f"{V1}/auth/token"): lambda w, ids: {
        "data": {"username": "ect_a@school.test", "password": PASSWORD}
    },
    ("POST", f"{V1}/uploads"): lambda w, ids: {"json": {"filename": "a.mp4", "size": 1000}},
    ("PATCH", f"{V1}/uploads/{{upload_id}}"): lambda w, ids: {
        "content": _mp4_head(w, 1000),
        "headers": {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    },
    ("POST", f"{V1}/lessons"): lambda w, ids: {"json": {"upload_id": ids["upload_id"]}},
    ("POST", f"{V1}/batches"): lambda w, ids: {"json": {"upload_ids": [_coach_upload(w)]}},
    ("PATCH", L): lambda w, ids: {"json": {"transcribe": False}},
    ("PUT", f"{L}/consent"): lambda w, ids: {"json": {"consent": "blur_faces"}},
    ("PUT", f"{L}/keep-until"): lambda w, ids: {"json": {"keep_until": "2099-01-01T00:00:00Z"}},
    ("PUT", f"{L}/transcript-keep-until"): lambda w, ids: {
        "json": {"transcript_keep_until": "2099-01-01T00:00:00Z"}
    },
    ("POST", f"{L}/blanks"): lambda w, ids: {"json": {"start": 1.0, "end": 2.0}},
    ("POST", f"{L}/transcriptions"): lambda w, ids: {"json": {"language": "en"}},
    ("GET", f"{V1}/search"): lambda w, ids: {"params": {"q": "fractions"}},
    ("GET", f"{V1}/admin/research-export.zip"): lambda w, ids: {
        "params": {"lesson_ids": [w.ids["lesson_a"], w.ids["lesson_b"]]}
    },
    ("POST", f"{L}/transcript/reverts"): lambda w, ids: {"json": {"version": 1}},
    ("POST", f"{L}/transcript/corrections"): lambda w, ids: {
        "json": {"version": 1, "sentences": [{"index": 0, "text": "Good morning, class."}]}
    },
    ("POST", f"{V1}/clips"): lambda w, ids: {
        "json": {"lesson_id": ids["lesson_id"], "start": 1.0, "end": 2.5, "title": "x"}
    },
    ("PATCH", C): lambda w, ids: {"json": {"title": "renamed"}},
    ("GET", f"{L}/suggested-strands"): lambda w, ids: {"params": {"start": 1.0, "end": 2.5}},
    ("POST", f"{C}/tags"): lambda w, ids: {"json": {"strand_ids": ["ecf-2019:2a"]}},
    ("POST", f"{C}/comments"): lambda w, ids: {"json": {"at": 1.0, "body": "A reflection"}},
    ("POST", f"{C}/shares"): lambda w, ids: {"json": {}},
    ("POST", f"{V1}/action-steps"): lambda w, ids: {
        "json": {
            "ect_id": ids["ect_id"],
            "instruction": "Narrate what you see",
            "strand_ids": ["ecf-2019:4e"],
            "target_date": "2099-01-31",
        }
    },
    ("GET", f"{V1}/observation-schedule"): lambda w, ids: {"params": {"ect_id": ids["ect_id"]}},
    ("PATCH", f"{V1}/action-steps/{{step_id}}"): lambda w, ids: {
        "json": {"target_date": "2099-02-01"}
    },
    ("POST", f"{V1}/action-steps/{{step_id}}/practised"): lambda w, ids: {
        "json": {"note": "Did it"}
    },
    ("POST", f"{V1}/action-steps/{{step_id}}/close"): lambda w, ids: {"json": {}},
    ("POST", f"{V1}/action-steps/{{step_id}}/carry"): lambda w, ids: {
        "json": {"target_date": "2099-02-01"}
    },
    ("POST", f"{L}/comments"): lambda w, ids: {"json": {"at": 3.0, "body": "Good pace"}},
    ("POST", f"{V1}/notifications/read"): lambda w, ids: {
        "json": {"keys": [f"share:{w.ids['share_clip_shared']}"]}
    },
    ("PATCH", f"{V1}/comments/{{comment_id}}"): lambda w, ids: {"json": {"body": "Edited"}},
    ("POST", f"{C}/share-with-mentor"): lambda w, ids: {"json": {}},
    ("PUT", f"{C}/model"): lambda w, ids: {"json": {"note": "Watch the wait"}},
    ("POST", f"{C}/model-shares"): lambda w, ids: {
        "json": {"group_id": w.ids.get("group_admin", "none")}
    },
    ("POST", f"{V1}/ect-groups"): lambda w, ids: {
        "json": {"name": "Cohort", "ect_ids": [w.users["ect_a"]]}
    },
    ("PATCH", f"{V1}/ect-groups/{{group_id}}"): lambda w, ids: {"json": {"name": "Renamed"}},
    ("PUT", f"{V1}/ect-groups/{{group_id}}/members"): lambda w, ids: {
        "json": {"ect_ids": [w.users["ect_b"]]}
    },
    ("POST", f"{V1}/collections"): lambda w, ids: {
        "json": {"title": "Wait time", "clip_ids": [ids["clip_id"]]}
    },
    ("PATCH", f"{V1}/collections/{{collection_id}}"): lambda w, ids: {"json": {"title": "New"}},
    ("PUT", f"{V1}/collections/{{collection_id}}/items"): lambda w, ids: {
        "json": {"clip_ids": [w.ids["clip_draft"]]}
    },
    ("POST", f"{V1}/collections/{{collection_id}}/shares"): lambda w, ids: {
        "json": {"ect_id": ids["ect_id"]}
    },
    ("POST", f"{V1}/admin/users"): lambda w, ids: {
        "json": {"email": "new@school.test", "name": "New", "role": "ect"}
    },
    ("PATCH", f"{V1}/admin/users/{{user_id}}"): lambda w, ids: {"json": {"name": "Renamed"}},
    ("POST", f"{V1}/admin/pairings"): lambda w, ids: {
        "json": {"mentor_id": w.users["mentor_b"], "ect_id": w.users["ect_a"]}
    },
}


def _coach_upload(world: World) -> str:
    """A finished upload of the coach's, holding a recording."""
    from models.db import session_scope
    from models.upload import Upload, part_path

    data = world.storage.get_bytes(f"lessons/{world.ids['lesson_a']}/lesson.mp4")
    with session_scope(world.settings.database_url) as s:
        upload = Upload(
            owner_id=world.users["coach"], filename="y8.mp4", size=len(data), offset=len(data)
        )
        s.add(upload)
        s.flush()
        part_path(world.settings.data_dir, upload.id).write_bytes(data)
        return upload.id


def _add_coach_batch(world: World, media: Media) -> None:
    """lesson_c, submitted by the coach in batch_c and processed (artefacts as for lesson_a)."""
    from models.batch import Batch, BatchItem
    from models.db import session_scope
    from models.lesson import Lesson

    with session_scope(world.settings.database_url) as s:
        lesson = Lesson(
            owner_id=world.users["coach"], title="Batched", source_key="", source_filename="c.mp4"
        )
        s.add(lesson)
        s.flush()
        lesson.source_key = lesson.artefact_key("source.mp4")
        world.storage.put_file(lesson.source_key, media.video)
        store_artefacts(world.settings, lesson, media)
        batch = Batch(owner_id=world.users["coach"], name="Spring")
        s.add(batch)
        s.flush()
        s.add(BatchItem(batch_id=batch.id, position=0, source_name="c.mp4", lesson_id=lesson.id))
        world.ids["lesson_c"], world.ids["batch_c"] = lesson.id, batch.id


def _add_failed_batch(world: World) -> None:
    """batch_f: the coach's batch of one lesson whose processing failed."""
    from models.batch import Batch, BatchItem
    from models.db import session_scope
    from models.lesson import Lesson, LessonStatus

    with session_scope(world.settings.database_url) as s:
        lesson = Lesson(
            owner_id=world.users["coach"], title="Cut off", source_key="", source_filename="f.mp4"
        )
        lesson.status, lesson.error_code = LessonStatus.failed, "unreadable_media"
        s.add(lesson)
        s.flush()
        lesson.source_key = lesson.artefact_key("source.mp4")
        batch = Batch(owner_id=world.users["coach"], name="Failed")
        s.add(batch)
        s.flush()
        s.add(BatchItem(batch_id=batch.id, position=0, source_name="f.mp4", lesson_id=lesson.id))
        world.ids["batch_f"] = batch.id


def _add_blank(world: World) -> None:
    """blank_a: a blanked moment of lesson_a, made by its owner."""
    from models.blanks import LessonBlank
    from models.db import session_scope

    with session_scope(world.settings.database_url) as s:
        blank = LessonBlank(
            lesson_id=world.ids["lesson_a"], start=5.0, end=5.5, created_by=world.users["ect_a"]
        )
        s.add(blank)
        s.flush()
        world.ids["blank_a"] = blank.id


def _add_collections(world: World) -> None:
    """collection_shared, collection_revoked, collection_unshared: `mentor`'s, of clip_draft."""
    from models.coaching import Share
    from models.collections import Collection, CollectionItem
    from models.db import session_scope, utcnow

    with session_scope(world.settings.database_url) as s:
        for key in ("collection_shared", "collection_revoked", "collection_unshared"):
            collection = Collection(owner_id=world.users["mentor"], title=key)
            s.add(collection)
            s.flush()
            s.add(
                CollectionItem(
                    collection_id=collection.id, clip_id=world.ids["clip_draft"], position=0
                )
            )
            if key != "collection_unshared":
                revoked = utcnow() if key == "collection_revoked" else None
                s.add(
                    Share(
                        clip_id=world.ids["clip_draft"],
                        recipient_id=world.users["ect_a"],
                        shared_by=world.users["mentor"],
                        collection_id=collection.id,
                        revoked_at=revoked,
                    )
                )
            world.ids[key] = collection.id


def _add_pupil_names(world: World) -> None:
    """name_a on ect_a's class list, name_b on ect_b's, name_school on the school's."""
    from models.db import session_scope
    from models.pupilnames import PupilName

    with session_scope(world.settings.database_url) as s:
        for key, owner in (("name_a", "ect_a"), ("name_b", "ect_b"), ("name_school", None)):
            row = PupilName(
                owner_id=world.users[owner] if owner else None, name="Aisha", folded="aisha"
            )
            s.add(row)
            s.flush()
            world.ids[key] = row.id


def _resolve(world: World, row: Row) -> tuple[str, dict[str, str]]:
    ids: dict[str, str] = {"strand_id": "ecf-2019:4e"}
    for param, key in row.targets:
        if key.startswith("@"):
            ids[param] = world.users[key[1:]]
        else:
            ids[param] = world.ids.get(key, key)
    return row.path.format(**ids), ids


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_route_answers_each_case(
    world: World, inline_queue: object, media: Media, row: Row
) -> None:
    if {"lesson_c", "batch_c"} & {key for _, key in row.targets}:
        _add_coach_batch(world, media)
    if "batch_f" in {key for _, key in row.targets}:
        _add_failed_batch(world)
    if "blank_a" in {key for _, key in row.targets}:
        _add_blank(world)
    if any(key.startswith("collection_") for _, key in row.targets):
        _add_collections(world)
    if any(key.startswith("name_") for _, key in row.targets):
        _add_pupil_names(world)

    if any(key.startswith(("clip_model_", "group_")) for _, key in row.targets):
        add_model_practice(world, media)
    url, ids = _resolve(world, row)
    body = BODIES.get((row.method, row.path), lambda w, i: {})(world, ids)
    headers = {**world.auth(row.actor), **body.pop("headers", {})}
    response = world.client.request(row.method, url, headers=headers, **body)
    assert response.status_code == row.status, response.text
    if response.status_code >= 400 and row.method != "HEAD":
        assert isinstance(response.json()["detail"], str | list)
    if response.status_code == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


def _app_routes() -> set[tuple[str, str]]:
    found = set()
    for route in iter_route_contexts(create_app().routes):
        path = getattr(route, "path", "")
        if path.startswith("/api/"):
            for method in getattr(route, "methods", None) or ():
                found.add((method, path))
    return found


def test_matrix_covers_every_route(world: World) -> None:
    covered = {(r.method, r.path) for r in ROWS}
    missing = _app_routes() - covered
    assert not missing, f"routes without authorization rows: {sorted(missing)}"
    assert not covered - _app_routes(), "rows for routes that do not exist"


def test_every_object_route_has_each_ownership_case() -> None:
    for method, path in {(r.method, r.path) for r in ROWS}:
        cases = {r.case for r in ROWS if (r.method, r.path) == (method, path)}
        assert "anonymous" in cases, (method, path)
        if "{lesson_id}" in path:
            assert set(LESSON_CASES) | {"batch_coach"} <= cases, (method, path)
        if "{clip_id}" in path:
            assert set(CLIP_CASES) <= cases, (method, path)
        if "{step_id}" in path:
            assert {
                "ect",
                "mentor",
                "admin",
                "coach",
                "unrelated_ect_b",
                "unrelated_mentor_b",
            } <= cases
        if "{comment_id}" in path:
            assert set(COMMENT_CASES) <= cases, (method, path)
        if "{collection_id}" in path:
            assert set(COLLECTION_CASES) <= cases, (method, path)
        if "{clip_id}" in path:
            assert set(MODEL_CASES) <= cases, (method, path)
        if "{group_id}" in path:
            assert set(GROUP_CASES) <= cases, (method, path)


def test_another_ects_things_never_show_up_in_lists(world: World) -> None:
    """Lists are filtered by the same rules: ect_b sees nothing of ect_a's anywhere."""
    a_things = {
        world.ids[k]
        for k in (
            "lesson_a",
            "clip_shared",
            "clip_draft",
            "clip_self",
            "clip_self_shared",
            "upload_a",
            "step_a",
        )
    }
    headers = world.auth("ect_b")
    for path in (
        "/api/v1/lessons",
        "/api/v1/clips",
        "/api/v1/feed",
        "/api/v1/action-steps",
        f"/api/v1/clips?lesson_id={world.ids['lesson_a']}",
    ):
        response = world.client.get(path, headers=headers)
        assert response.status_code == 200
        assert not a_things & set(_all_ids(response.json())), path
    told = world.client.get("/api/v1/notifications", headers=headers).text  # ids sit in links
    assert not [thing for thing in a_things if thing in told]


def _all_ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k.endswith("id") and isinstance(v, str)] + [
            i for v in value.values() for i in _all_ids(v)
        ]
    if isinstance(value, list):
        return [i for v in value for i in _all_ids(v)]
    return []


def test_lists_show_what_each_role_may_see(world: World) -> None:
    def ids(who: str, path: str) -> set[str]:
        return {item["id"] for item in world.client.get(path, headers=world.auth(who)).json()}

    ids_ = world.ids
    assert ids("ect_a", "/api/v1/lessons") == {ids_["lesson_a"]}
    assert ids("mentor", "/api/v1/lessons") == {ids_["lesson_a"]}
    assert ids("coach", "/api/v1/lessons") == set()
    assert ids("admin", "/api/v1/lessons") == {ids_["lesson_a"], ids_["lesson_b"]}
    assert ids("ect_a", "/api/v1/clips") == {
        ids_[k] for k in ("clip_shared", "clip_self", "clip_self_shared")
    }
    assert ids("mentor", "/api/v1/clips") == {
        ids_[k]
        for k in ("clip_shared", "clip_expired", "clip_revoked", "clip_draft", "clip_self_shared")
    }
    assert ids("mentor_b", "/api/v1/clips") == {ids_["clip_b"]}
    assert ids("admin", "/api/v1/clips") == set()
    feed = world.client.get("/api/v1/feed", headers=world.auth("ect_a")).json()
    assert [item["clip"]["id"] for item in feed] == [ids_["clip_shared"]]
    feed = world.client.get("/api/v1/feed", headers=world.auth("mentor")).json()
    assert [item["clip"]["id"] for item in feed] == [ids_["clip_self_shared"]]


def test_lesson_cards_count_only_what_the_caller_may_see(world: World) -> None:
    """The lesson list names who taught each lesson and counts clips and comments, but only
    the clips the caller may see: an ECT's card never reveals a mentor's unshared drafts."""

    def card(who: str) -> dict[str, Any]:
        lessons = world.client.get("/api/v1/lessons", headers=world.auth(who)).json()
        return next(item for item in lessons if item["id"] == world.ids["lesson_a"])

    mentor, ect, admin = card("mentor"), card("ect_a"), card("admin")
    assert mentor["owner"]["name"] == ect["owner"]["name"] == "Ect A"
    # one comment per visible clip, and the mentor's comment on the whole lesson
    assert (mentor["clip_count"], mentor["comment_count"]) == (5, 6)
    assert (ect["clip_count"], ect["comment_count"]) == (3, 4)
    assert (admin["clip_count"], admin["comment_count"]) == (0, 0)
