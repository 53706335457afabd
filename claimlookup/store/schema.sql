-- claimlookup embedded store, schema version 2 (SQLiteStore.SCHEMA_VERSION).
-- Applied by SQLiteStore.setup(); every statement is idempotent.
-- Wide columns come last (body, vectors in their own table) so joins that
-- need a few narrow columns do not drag large rows through the page cache.
-- Deleting an article row cascades to its sentences, vectors, entities,
-- quantities and article_entities;
-- triggers keep both external-content FTS5 indexes in step, so nothing is
-- left behind (tests/test_sqlite_store.py proves it with fts5vocab).

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value ANY
) STRICT;

CREATE TABLE IF NOT EXISTS articles (
    pk           INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    source       TEXT,
    published    TEXT,               -- ISO date YYYY-MM-DD, NULL when undated
    url          TEXT,
    language     TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    indexed_at   TEXT NOT NULL,      -- ISO UTC timestamp
    title        TEXT NOT NULL,
    body         TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS articles_source ON articles (source);
CREATE INDEX IF NOT EXISTS articles_published ON articles (published);

-- AUTOINCREMENT: sentence ids are never reused, so readers can sync their
-- in-memory vector matrix incrementally (new rows = ids above the last seen).
CREATE TABLE IF NOT EXISTS sentences (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    article  INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    position INTEGER NOT NULL,       -- 0 = title
    text     TEXT NOT NULL,
    start    INTEGER NOT NULL,
    end      INTEGER NOT NULL,
    stance   TEXT NOT NULL,
    speaker  TEXT,
    UNIQUE (article, position)
) STRICT;

CREATE TABLE IF NOT EXISTS sentence_vectors (
    sentence INTEGER PRIMARY KEY REFERENCES sentences (id) ON DELETE CASCADE,
    vector   BLOB NOT NULL           -- little-endian float32, L2-normalised
) STRICT;

CREATE TABLE IF NOT EXISTS entities (
    article  INTEGER NOT NULL,
    position INTEGER NOT NULL,
    key      TEXT NOT NULL,
    text     TEXT NOT NULL,
    label    TEXT NOT NULL,
    start    INTEGER NOT NULL,
    end      INTEGER NOT NULL,
    FOREIGN KEY (article, position) REFERENCES sentences (article, position) ON DELETE CASCADE
) STRICT;
CREATE INDEX IF NOT EXISTS entities_sentence ON entities (article, position);
CREATE INDEX IF NOT EXISTS entities_key ON entities (key, article);
CREATE INDEX IF NOT EXISTS entities_name ON entities (lower(text));

-- One row per (article, entity key), with the article's most frequent label
-- and surface form: entity filters and facets count articles with count(*)
-- instead of count(DISTINCT) over every mention.
CREATE TABLE IF NOT EXISTS article_entities (
    article  INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    label    TEXT NOT NULL,
    name     TEXT NOT NULL,
    mentions INTEGER NOT NULL,
    PRIMARY KEY (article, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS article_entities_key ON article_entities (key, label, name);

CREATE TABLE IF NOT EXISTS quantities (
    article   INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    value     REAL NOT NULL,
    text      TEXT NOT NULL,
    counts    TEXT NOT NULL,
    event     TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    start     INTEGER NOT NULL,
    end       INTEGER NOT NULL,
    -- 'event' | 'cumulative'. Added within schema version 2: setup() adds the
    -- column to older files (connection.add_missing_columns), old rows 'event'.
    scope     TEXT NOT NULL DEFAULT 'event',
    FOREIGN KEY (article, position) REFERENCES sentences (article, position) ON DELETE CASCADE
) STRICT;
CREATE INDEX IF NOT EXISTS quantities_sentence ON quantities (article, position);

-- Articles whose latest write came through the API (POST /v1/articles): no
-- input file holds them, so rebuild() carries them into the new index. A
-- rewrite deletes the article row, and with it this mark (a posted rewrite
-- marks it again). generation: meta.generation of that write. Added within
-- schema version 2 (CREATE IF NOT EXISTS: setup() adds it to older files).
CREATE TABLE IF NOT EXISTS posted_articles (
    article    INTEGER PRIMARY KEY REFERENCES articles (pk) ON DELETE CASCADE,
    generation INTEGER NOT NULL
) STRICT;

-- Full text: external-content FTS5 tables (the text lives once, in the
-- tables above; highlight()/snippet() read it from there).
CREATE VIRTUAL TABLE IF NOT EXISTS sentences_fts USING fts5 (
    text, content = 'sentences', content_rowid = 'id', tokenize = 'porter unicode61'
);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5 (
    title, body, content = 'articles', content_rowid = 'pk', tokenize = 'porter unicode61'
);

CREATE TRIGGER IF NOT EXISTS sentences_fts_insert AFTER INSERT ON sentences BEGIN
    INSERT INTO sentences_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS sentences_fts_delete AFTER DELETE ON sentences BEGIN
    INSERT INTO sentences_fts (sentences_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER IF NOT EXISTS sentences_fts_update AFTER UPDATE OF text ON sentences BEGIN
    INSERT INTO sentences_fts (sentences_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO sentences_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER IF NOT EXISTS articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.pk, new.title, new.body);
END;
CREATE TRIGGER IF NOT EXISTS articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.pk, old.title, old.body);
END;
CREATE TRIGGER IF NOT EXISTS articles_fts_update AFTER UPDATE OF title, body ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.pk, old.title, old.body);
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.pk, new.title, new.body);
END;

-- Readers compare (epoch, generation) to decide whether their in-memory
-- vectors are stale: every write bumps generation; a fresh or rebuilt store
-- gets a new random epoch.
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', 2);
INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', lower(hex(randomblob(8))));
INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', 0);
