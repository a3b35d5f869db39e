-- reflect client database. Migration "0004_drafts".
-- Text typed on the member's page (`reflect ui`) and not yet saved, kept every few seconds so that it survives a
-- reload, a closed tab or a crash. One draft per editor: `slot` names it ("write", or "edit:", "comment:",
-- "comment-edit:" or "merge:" and the record's id). A draft is removed when its form is saved or the member
-- discards it; it is never synced (it is not writing yet).
CREATE TABLE drafts (
    slot TEXT PRIMARY KEY NOT NULL,
    title TEXT,
    body TEXT NOT NULL,
    visibility TEXT,
    prompt_id INTEGER,
    saved_at INTEGER NOT NULL
);
