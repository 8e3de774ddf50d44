CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE frameworks (
    id VARCHAR(64) NOT NULL,
    name VARCHAR(200) NOT NULL,
    version VARCHAR(32) NOT NULL,
    source VARCHAR(300) NOT NULL,
    loaded_at DATETIME NOT NULL,
    CONSTRAINT pk_frameworks PRIMARY KEY (id)
);

CREATE TABLE users (
    id VARCHAR(32) NOT NULL,
    email VARCHAR(320) NOT NULL,
    name VARCHAR(200) NOT NULL,
    role VARCHAR(16) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    active BOOLEAN NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_users_email ON users (email);

CREATE TABLE audit_events (
    id INTEGER NOT NULL,
    at DATETIME NOT NULL,
    actor_id VARCHAR(32),
    action VARCHAR(64) NOT NULL,
    object_type VARCHAR(32) NOT NULL,
    object_id VARCHAR(64) NOT NULL,
    client VARCHAR(64) NOT NULL,
    detail JSON NOT NULL,
    CONSTRAINT pk_audit_events PRIMARY KEY (id),
    CONSTRAINT fk_audit_events_actor_id_users FOREIGN KEY(actor_id) REFERENCES users (id) ON DELETE SET NULL
);

CREATE INDEX ix_audit_events_action ON audit_events (action);

CREATE INDEX ix_audit_events_actor_id ON audit_events (actor_id);

CREATE INDEX ix_audit_events_at ON audit_events (at);

CREATE INDEX ix_audit_events_object_id ON audit_events (object_id);

CREATE TABLE batches (
    id VARCHAR(32) NOT NULL,
    owner_id VARCHAR(32) NOT NULL,
    name VARCHAR(300) NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT pk_batches PRIMARY KEY (id),
    CONSTRAINT fk_batches_owner_id_users FOREIGN KEY(owner_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_batches_owner_id ON batches (owner_id);

CREATE TABLE lessons (
    id VARCHAR(32) NOT NULL,
    owner_id VARCHAR(32),
    title VARCHAR(300) NOT NULL,
    source_filename VARCHAR(1024) NOT NULL,
    source_key VARCHAR(1024) NOT NULL,
    source_size INTEGER NOT NULL,
    source_sha256 VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    stage VARCHAR(32),
    progress INTEGER NOT NULL,
    error_code VARCHAR(64),
    error_message TEXT,
    warnings JSON NOT NULL,
    media_key VARCHAR(1024),
    duration DOUBLE,
    has_video BOOLEAN,
    has_audio BOOLEAN,
    probe JSON,
    transcribe BOOLEAN NOT NULL,
    options JSON NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    ready_at DATETIME,
    CONSTRAINT pk_lessons PRIMARY KEY (id),
    CONSTRAINT fk_lessons_owner_id_users FOREIGN KEY(owner_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_lessons_owner_id ON lessons (owner_id);

CREATE INDEX ix_lessons_source_sha256 ON lessons (source_sha256);

CREATE INDEX ix_lessons_status ON lessons (status);

CREATE TABLE pairings (
    id VARCHAR(32) NOT NULL,
    mentor_id VARCHAR(32) NOT NULL,
    ect_id VARCHAR(32) NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT pk_pairings PRIMARY KEY (id),
    CONSTRAINT fk_pairings_ect_id_users FOREIGN KEY(ect_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_pairings_mentor_id_users FOREIGN KEY(mentor_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT uq_pairings_mentor_id UNIQUE (mentor_id, ect_id)
);

CREATE INDEX ix_pairings_ect_id ON pairings (ect_id);

CREATE INDEX ix_pairings_mentor_id ON pairings (mentor_id);

CREATE TABLE revoked_tokens (
    jti VARCHAR(64) NOT NULL,
    user_id VARCHAR(32),
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME NOT NULL,
    CONSTRAINT pk_revoked_tokens PRIMARY KEY (jti),
    CONSTRAINT fk_revoked_tokens_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_revoked_tokens_expires_at ON revoked_tokens (expires_at);

CREATE INDEX ix_revoked_tokens_user_id ON revoked_tokens (user_id);

CREATE TABLE strands (
    id VARCHAR(96) NOT NULL,
    framework_id VARCHAR(64) NOT NULL,
    standard INTEGER NOT NULL,
    kind VARCHAR(24) NOT NULL,
    code VARCHAR(16) NOT NULL,
    title TEXT NOT NULL,
    parent_id VARCHAR(96),
    position INTEGER NOT NULL,
    CONSTRAINT pk_strands PRIMARY KEY (id),
    CONSTRAINT fk_strands_framework_id_frameworks FOREIGN KEY(framework_id) REFERENCES frameworks (id) ON DELETE CASCADE
);

CREATE INDEX ix_strands_framework_id ON strands (framework_id);

CREATE TABLE uploads (
    id VARCHAR(32) NOT NULL,
    owner_id VARCHAR(32) NOT NULL,
    filename VARCHAR(1024) NOT NULL,
    size INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    sha256 VARCHAR(64),
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT pk_uploads PRIMARY KEY (id),
    CONSTRAINT fk_uploads_owner_id_users FOREIGN KEY(owner_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_uploads_owner_id ON uploads (owner_id);

CREATE TABLE batch_items (
    id INTEGER NOT NULL,
    batch_id VARCHAR(32) NOT NULL,
    position INTEGER NOT NULL,
    source_name VARCHAR(1024) NOT NULL,
    lesson_id VARCHAR(32),
    reused BOOLEAN NOT NULL,
    error_code VARCHAR(64),
    error_message TEXT,
    CONSTRAINT pk_batch_items PRIMARY KEY (id),
    CONSTRAINT fk_batch_items_batch_id_batches FOREIGN KEY(batch_id) REFERENCES batches (id) ON DELETE CASCADE,
    CONSTRAINT fk_batch_items_lesson_id_lessons FOREIGN KEY(lesson_id) REFERENCES lessons (id) ON DELETE SET NULL
);

CREATE INDEX ix_batch_items_batch_id ON batch_items (batch_id);

CREATE INDEX ix_batch_items_lesson_id ON batch_items (lesson_id);

CREATE TABLE clips (
    id VARCHAR(32) NOT NULL,
    lesson_id VARCHAR(32) NOT NULL,
    author_id VARCHAR(32),
    title VARCHAR(300) NOT NULL,
    note TEXT NOT NULL,
    start DOUBLE NOT NULL,
    "end" DOUBLE NOT NULL,
    word_start INTEGER,
    word_end INTEGER,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    render_status VARCHAR(16) NOT NULL,
    render_requested_at DATETIME,
    rendered_at DATETIME,
    render_error_code VARCHAR(64),
    render_error_message TEXT,
    media_key VARCHAR(1024),
    captions_key VARCHAR(1024),
    CONSTRAINT pk_clips PRIMARY KEY (id),
    CONSTRAINT fk_clips_author_id_users FOREIGN KEY(author_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT fk_clips_lesson_id_lessons FOREIGN KEY(lesson_id) REFERENCES lessons (id) ON DELETE CASCADE
);

CREATE INDEX ix_clips_author_id ON clips (author_id);

CREATE INDEX ix_clips_lesson_id ON clips (lesson_id);

CREATE TABLE lesson_stages (
    id INTEGER NOT NULL,
    lesson_id VARCHAR(32) NOT NULL,
    name VARCHAR(32) NOT NULL,
    status VARCHAR(16) NOT NULL,
    progress DOUBLE NOT NULL,
    attempts INTEGER NOT NULL,
    started_at DATETIME,
    finished_at DATETIME,
    heartbeat_at DATETIME,
    error_code VARCHAR(64),
    error_message TEXT,
    result JSON,
    CONSTRAINT pk_lesson_stages PRIMARY KEY (id),
    CONSTRAINT fk_lesson_stages_lesson_id_lessons FOREIGN KEY(lesson_id) REFERENCES lessons (id) ON DELETE CASCADE,
    CONSTRAINT uq_lesson_stages_lesson_id UNIQUE (lesson_id, name)
);

CREATE TABLE transcript_versions (
    id INTEGER NOT NULL,
    lesson_id VARCHAR(32) NOT NULL,
    number INTEGER NOT NULL,
    created_at DATETIME,
    archived_at DATETIME NOT NULL,
    model VARCHAR(300) NOT NULL,
    language VARCHAR(16) NOT NULL,
    vocabulary JSON NOT NULL,
    words INTEGER NOT NULL,
    formats JSON NOT NULL,
    CONSTRAINT pk_transcript_versions PRIMARY KEY (id),
    CONSTRAINT fk_transcript_versions_lesson_id_lessons FOREIGN KEY(lesson_id) REFERENCES lessons (id) ON DELETE CASCADE,
    CONSTRAINT uq_transcript_versions_lesson_id UNIQUE (lesson_id, number)
);

CREATE INDEX ix_transcript_versions_lesson_id ON transcript_versions (lesson_id);

CREATE TABLE clip_tags (
    clip_id VARCHAR(32) NOT NULL,
    strand_id VARCHAR(96) NOT NULL,
    tagged_by VARCHAR(32),
    created_at DATETIME NOT NULL,
    CONSTRAINT pk_clip_tags PRIMARY KEY (clip_id, strand_id),
    CONSTRAINT fk_clip_tags_clip_id_clips FOREIGN KEY(clip_id) REFERENCES clips (id) ON DELETE CASCADE,
    CONSTRAINT fk_clip_tags_strand_id_strands FOREIGN KEY(strand_id) REFERENCES strands (id) ON DELETE CASCADE,
    CONSTRAINT fk_clip_tags_tagged_by_users FOREIGN KEY(tagged_by) REFERENCES users (id) ON DELETE SET NULL
);

CREATE INDEX ix_clip_tags_strand_id ON clip_tags (strand_id);

CREATE TABLE comments (
    id VARCHAR(32) NOT NULL,
    clip_id VARCHAR(32) NOT NULL,
    parent_id VARCHAR(32),
    author_id VARCHAR(32),
    at DOUBLE NOT NULL,
    kind VARCHAR(16) NOT NULL,
    body TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT pk_comments PRIMARY KEY (id),
    CONSTRAINT fk_comments_author_id_users FOREIGN KEY(author_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT fk_comments_clip_id_clips FOREIGN KEY(clip_id) REFERENCES clips (id) ON DELETE CASCADE,
    CONSTRAINT fk_comments_parent_id_comments FOREIGN KEY(parent_id) REFERENCES comments (id) ON DELETE CASCADE
);

CREATE INDEX ix_comments_clip_id ON comments (clip_id);

CREATE INDEX ix_comments_created_at ON comments (created_at);

CREATE INDEX ix_comments_parent_id ON comments (parent_id);

CREATE TABLE shares (
    id VARCHAR(32) NOT NULL,
    clip_id VARCHAR(32) NOT NULL,
    recipient_id VARCHAR(32) NOT NULL,
    shared_by VARCHAR(32),
    created_at DATETIME NOT NULL,
    until DATETIME,
    revoked_at DATETIME,
    revoked_by VARCHAR(32),
    CONSTRAINT pk_shares PRIMARY KEY (id),
    CONSTRAINT fk_shares_clip_id_clips FOREIGN KEY(clip_id) REFERENCES clips (id) ON DELETE CASCADE,
    CONSTRAINT fk_shares_recipient_id_users FOREIGN KEY(recipient_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_shares_revoked_by_users FOREIGN KEY(revoked_by) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT fk_shares_shared_by_users FOREIGN KEY(shared_by) REFERENCES users (id) ON DELETE SET NULL
);

CREATE INDEX ix_shares_clip_id ON shares (clip_id);

CREATE INDEX ix_shares_created_at ON shares (created_at);

CREATE INDEX ix_shares_recipient_id ON shares (recipient_id);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING version_num;

