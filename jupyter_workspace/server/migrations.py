"""Numbered schema migrations for the workspace database.

`PRAGMA user_version` holds the number of the last migration applied. Migrations are only
ever appended: never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: notes and tasks
    """
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        revision INTEGER NOT NULL DEFAULT 1,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX notes_updated ON notes(updated);
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
        priority TEXT NOT NULL DEFAULT 'normal'
            CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
        due TEXT,
        source_path TEXT,
        source_line INTEGER CHECK (source_line IS NULL OR source_line >= 1),
        revision INTEGER NOT NULL DEFAULT 1,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        completed TEXT
    );
    CREATE INDEX tasks_done ON tasks(done);
    """,
    # 2: full-text filter over notes (external-content FTS5 kept in step by triggers)
    """
    CREATE VIRTUAL TABLE notes_fts USING fts5(
        title, body, content='notes', content_rowid='id', tokenize='unicode61'
    );
    INSERT INTO notes_fts(rowid, title, body) SELECT id, title, body FROM notes;
    CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END;
    CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, title, body)
            VALUES ('delete', old.id, old.title, old.body);
    END;
    CREATE TRIGGER notes_au AFTER UPDATE OF title, body ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, title, body)
            VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO notes_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END;
    """,
    # 3: chat conversations and their messages
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'complete'
            CHECK (status IN ('complete', 'partial', 'error')),
        error TEXT,
        model TEXT,
        created TEXT NOT NULL
    );
    CREATE INDEX messages_conversation ON messages(conversation_id, id);
    """,
    # 4: the index catalog: what the sidecar's index holds, and the durable indexing queue
    """
    CREATE TABLE files (
        path TEXT PRIMARY KEY,
        hash TEXT,
        size INTEGER,
        mtime REAL,
        language TEXT,
        chunks INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL
            CHECK (state IN ('pending', 'indexed', 'skipped', 'error', 'deleting')),
        reason TEXT,
        indexed_at TEXT
    );
    CREATE INDEX files_state ON files(state);
    CREATE TABLE index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 5: grounded answers: the passages an answer drew on, and how it was made
    """
    ALTER TABLE messages ADD COLUMN sources TEXT;
    ALTER TABLE messages ADD COLUMN mode TEXT;
    ALTER TABLE messages ADD COLUMN error_kind TEXT;
    """,
    # 6: tasks detected in files and notes; entities and where they are mentioned
    """
    ALTER TABLE tasks ADD COLUMN origin TEXT NOT NULL DEFAULT 'user'
        CHECK (origin IN ('user', 'detected'));
    ALTER TABLE tasks ADD COLUMN detected_key TEXT;
    ALTER TABLE tasks ADD COLUMN scope TEXT;
    ALTER TABLE tasks ADD COLUMN tag TEXT;
    ALTER TABLE tasks ADD COLUMN owner TEXT;
    ALTER TABLE tasks ADD COLUMN ref TEXT;
    ALTER TABLE tasks ADD COLUMN snippet TEXT;
    ALTER TABLE tasks ADD COLUMN resolved TEXT;
    ALTER TABLE tasks ADD COLUMN detected_done INTEGER;
    CREATE UNIQUE INDEX tasks_detected ON tasks(detected_key) WHERE detected_key IS NOT NULL;
    CREATE INDEX tasks_scope ON tasks(scope) WHERE origin = 'detected';
    CREATE TABLE entities (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        key TEXT NOT NULL,
        UNIQUE (kind, key)
    );
    CREATE TABLE mentions (
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        line INTEGER NOT NULL,
        snippet TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'rules' CHECK (origin IN ('rules', 'llm'))
    );
    CREATE INDEX mentions_entity ON mentions(entity_id);
    CREATE INDEX mentions_source ON mentions(source, origin);
    ALTER TABLE files ADD COLUMN detail TEXT;
    -- files indexed before detection existed are read again (their vectors are reused)
    UPDATE files SET hash = NULL, state = 'pending' WHERE state = 'indexed';
    """,
    # 7: pipeline runs
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        pipeline TEXT NOT NULL,
        command TEXT NOT NULL,
        cwd TEXT NOT NULL DEFAULT '',
        trigger TEXT NOT NULL DEFAULT 'user',
        status TEXT NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'stopped',
                                               'timeout', 'error', 'interrupted')),
        exit_code INTEGER,
        started TEXT NOT NULL,
        ended TEXT,
        duration REAL,
        output_tail TEXT,
        output_chars INTEGER NOT NULL DEFAULT 0,
        failures TEXT,
        summary TEXT,
        error TEXT
    );
    CREATE INDEX runs_pipeline ON runs(pipeline, id);
    """,
    # 8: the pipeline config a user allowed to run terminals approved (its content hash)
    """
    CREATE TABLE pipeline_trust (
        path TEXT PRIMARY KEY,
        hash TEXT NOT NULL,
        approved_by TEXT,
        approved_at TEXT NOT NULL
    );
    """,
    # 9: the definitions the sidecar found in each indexed file: `@` type-ahead, Go to Symbol
    """
    CREATE TABLE symbols (
        path TEXT NOT NULL,
        name TEXT NOT NULL,
        short TEXT NOT NULL,  -- the name's last part, lower case: what a user types
        kind TEXT NOT NULL,
        line INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        cell INTEGER
    );
    CREATE INDEX symbols_short ON symbols(short);
    CREATE INDEX symbols_path ON symbols(path);
    -- files indexed before symbols were kept are read again (their vectors are reused)
    UPDATE files SET hash = NULL, state = 'pending' WHERE state = 'indexed';
    """,
    # 10: research jobs, each step's checkpoint, and the files a report read and cites
    """
    CREATE TABLE research_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        question TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT '{}',  -- JSON {paths, languages, notes}
        depth TEXT NOT NULL CHECK (depth IN ('quick', 'standard', 'deep')),
        status TEXT NOT NULL
            CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        mode TEXT CHECK (mode IS NULL OR mode IN ('llm', 'retrieval')),
        step TEXT,  -- the step running, or the last one done
        progress REAL NOT NULL DEFAULT 0,
        standing INTEGER NOT NULL DEFAULT 0 CHECK (standing IN (0, 1)),
        note_id INTEGER,  -- the report; no foreign key: a user may delete the note
        error TEXT,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        cost REAL,
        runs INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        started TEXT,
        ended TEXT
    );
    CREATE INDEX research_jobs_status ON research_jobs(status, id);
    CREATE TABLE research_steps (
        job_id INTEGER NOT NULL REFERENCES research_jobs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
        output TEXT,  -- the step's checkpoint, JSON: a resumed job starts after it
        detail TEXT,  -- one line for the panel
        started TEXT NOT NULL,
        ended TEXT,
        PRIMARY KEY (job_id, name)
    );
    CREATE TABLE research_sources (
        job_id INTEGER NOT NULL REFERENCES research_jobs(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        hash TEXT,  -- content hash (research.env.content_hash) when read; NULL: unreadable
        cited INTEGER NOT NULL DEFAULT 0 CHECK (cited IN (0, 1)),
        PRIMARY KEY (job_id, path)
    );
    CREATE INDEX research_sources_path ON research_sources(path);
    """,
    # 11: snapshots of unsaved work (an editor's buffer), kept until the document is saved
    """
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL,  -- root-relative, or `@notes/<id>` for a note draft
        kind TEXT NOT NULL CHECK (kind IN ('file', 'notebook', 'note')),
        client TEXT NOT NULL DEFAULT '',  -- the tab's id: two tabs on one file are both kept
        content BLOB NOT NULL,  -- zlib-compressed UTF-8
        content_hash TEXT NOT NULL,  -- sha256 of the uncompressed UTF-8
        size INTEGER NOT NULL,  -- uncompressed bytes
        base_hash TEXT,  -- sha256 of the file on disk the buffer was based on (the client's word)
        base_mtime REAL,
        created TEXT NOT NULL
    );
    CREATE INDEX snapshots_path ON snapshots(path, created);
    """,
    # 12: who last wrote a note or task when it was not a person in JupyterLab: an agent over
    # MCP ('mcp:<client name>'); NULL for the user (panels, magics, the REST API)
    """
    ALTER TABLE notes ADD COLUMN written_by TEXT;
    ALTER TABLE tasks ADD COLUMN written_by TEXT;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
