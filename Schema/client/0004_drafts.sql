-- reflect client database. Migration "0004_drafts".
-- Text typed on the member's page (`reflect ui`) and not yet saved, kept every few seconds so that it survives a
-- reload, a closed tab or a crash. `slot` names the editor ("write", or "edit:", "comment:", "comment-edit:" or
-- "merge:" and the record's id); `editor` is the random name of one editor as a page showed it, so that two tabs
-- writing in the same slot keep two drafts and saving one never removes the other. A draft is removed when its
-- own form is saved, when its conflict is resolved, or when the member discards it; it is never synced.
CREATE TABLE drafts (
    slot TEXT NOT NULL,
    editor TEXT NOT NULL,
    title TEXT,
    body TEXT NOT NULL,
    visibility TEXT,
    prompt_id INTEGER,
    saved_at INTEGER NOT NULL,
    PRIMARY KEY (slot, editor)
);
