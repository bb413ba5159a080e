"""text search words per investigation, with the span of their datasets' starts

A dataset page for a text search wants the newest matches first. The GIN index gives
every match at once but not their dates, so a word found in 3% of a million datasets
read 33,000 rows to sort them, and for anyone but a manager a third of those rows
were under embargo. investigation_word says, for each word of the text index, which
investigations hold it and between which start dates: the search then reads only the
investigations the caller may see, newest first, a window at a time.

PostgreSQL only (SQLite's FTS5 index returns the matching ids without reading rows).
Triggers keep the table up to date for every write path, COPY included: the lexemes
come from the stored search_vector, so they are exactly the words the text index
holds. Only lexemes starting with a letter are kept: paths and numbers (a scan number
is in nearly every investigation and would add a row per dataset) narrow nothing, and
a search finds its investigations by its words that start with a letter. Rows only
ever widen: a dataset deleted or moved leaves a span that is too wide, never too
narrow. Deleting investigations deletes their rows, once per statement (a foreign
key would check every inserted row, and cascade one investigation at a time). The
spans ride in the primary key's index, so a word's investigations are read from the
index alone: the table does not stay in PostgreSQL's buffers, and its rows read one
by one cost ten times more.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Lexemes are lowercase: from `a` on, which leaves out digits, paths and signs.
_KEPT = "ascii(lexeme) >= 97"
# Rows inserted in (word, investigation) order, so concurrent batches lock them in
# the same order; a span is rewritten only when it widens.
_UPSERT = """
    ON CONFLICT (word, investigation_id) DO UPDATE
        SET first_start = least(w.first_start, excluded.first_start),
            last_start = greatest(w.last_start, excluded.last_start)
        WHERE excluded.first_start < w.first_start OR excluded.last_start > w.last_start
"""
_FUNCTIONS = (
    f"""
CREATE FUNCTION fb_investigation_words_of_new_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO investigation_word AS w (word, investigation_id, first_start, last_start)
    SELECT lexeme, n.investigation_id, min(n.start), max(n.start)
    FROM new_rows n, unnest(tsvector_to_array(n.search_vector)) AS lexeme
    WHERE {_KEPT}
    GROUP BY lexeme, n.investigation_id
    ORDER BY lexeme, n.investigation_id
    {_UPSERT};
    RETURN NULL;
END $$
""",
    f"""
CREATE FUNCTION fb_investigation_words_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO investigation_word AS w (word, investigation_id, first_start, last_start)
    SELECT DISTINCT lexeme, NEW.investigation_id, NEW.start, NEW.start
    FROM unnest(tsvector_to_array(NEW.search_vector)) AS lexeme
    WHERE {_KEPT}
    ORDER BY lexeme
    {_UPSERT};
    RETURN NULL;
END $$
""",
    """
CREATE FUNCTION fb_investigation_delete_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM investigation_word WHERE investigation_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$
""",
)
_TRIGGERS = (
    "CREATE TRIGGER fb_dataset_insert_words AFTER INSERT ON dataset "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION fb_investigation_words_of_new_rows()",
    # Row by row, and only for rows whose words, start or investigation changed: other
    # updates (counters, storage state) leave the table alone.
    "CREATE TRIGGER fb_dataset_update_words "
    "AFTER UPDATE OF search_text, start, investigation_id ON dataset FOR EACH ROW "
    "WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text "
    "OR OLD.start IS DISTINCT FROM NEW.start "
    "OR OLD.investigation_id IS DISTINCT FROM NEW.investigation_id) "
    "EXECUTE FUNCTION fb_investigation_words_of_row()",
    "CREATE TRIGGER fb_investigation_delete_words AFTER DELETE ON investigation "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION fb_investigation_delete_words()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
CREATE TABLE investigation_word (
    word text COLLATE "C" NOT NULL,
    investigation_id integer NOT NULL,
    first_start timestamp without time zone NOT NULL,
    last_start timestamp without time zone NOT NULL,
    CONSTRAINT pk_investigation_word PRIMARY KEY (word, investigation_id)
        INCLUDE (first_start, last_start)
)
"""
    )
    for function in _FUNCTIONS:
        op.execute(function)
    for trigger in _TRIGGERS:
        op.execute(trigger)
    # The triggers come first: they lock the dataset table against writes until this
    # migration commits, so no dataset registered meanwhile is left out. A catalogue of
    # a million datasets aggregates 30 million lexemes here once.
    op.execute("SET LOCAL work_mem = '256MB'")
    op.execute(
        f"""
INSERT INTO investigation_word (word, investigation_id, first_start, last_start)
SELECT lexeme, d.investigation_id, min(d.start), max(d.start)
FROM dataset d, unnest(tsvector_to_array(d.search_vector)) AS lexeme
WHERE {_KEPT}
GROUP BY lexeme, d.investigation_id
"""
    )
    op.execute("RESET work_mem")
    op.execute("ANALYZE investigation_word")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER fb_investigation_delete_words ON investigation")
    op.execute("DROP TRIGGER fb_dataset_update_words ON dataset")
    op.execute("DROP TRIGGER fb_dataset_insert_words ON dataset")
    op.execute("DROP FUNCTION fb_investigation_delete_words()")
    op.execute("DROP FUNCTION fb_investigation_words_of_row()")
    op.execute("DROP FUNCTION fb_investigation_words_of_new_rows()")
    op.execute("DROP TABLE investigation_word")
