from importlib import import_module

from django.db import migrations, models

# The triggers this migration replaces, for going back.
PREVIOUS = import_module("xueji.students.migrations.0003_searchkey")

# Each search key carries its record's openness and its student's pinyin
# (models.SearchKey says why). The database keeps both, as it keeps the keys: these
# triggers replace those of migration 0003 (they copy the two columns too) and add one
# for a record that opens or closes. The open statuses are models.OPEN_STATUSES when
# this migration was written (as in 0004); a migration that changes them must replace
# these triggers.
OPEN = "('pending', 'enrolled', 'suspended', 'dropped_out')"

SQLITE = [
    f"""
    CREATE TRIGGER students_searchkey_record_insert
    AFTER INSERT ON students_studentrecord
    BEGIN
        INSERT INTO students_searchkey (record_id, school_id, key, record_open, pinyin)
        SELECT NEW.id, NEW.school_id, keys.key, NEW.status IN {OPEN},
            (SELECT pinyin_key FROM students_student WHERE id = NEW.student_id)
        FROM (
            SELECT name AS key FROM students_student WHERE id = NEW.student_id
            UNION SELECT former_name FROM students_student WHERE id = NEW.student_id
            UNION SELECT pinyin_key FROM students_student WHERE id = NEW.student_id
            UNION SELECT initials_key FROM students_student WHERE id = NEW.student_id
        ) AS keys
        WHERE keys.key <> '';
    END
    """,
    f"""
    CREATE TRIGGER students_searchkey_student_update
    AFTER UPDATE OF name, former_name, pinyin_key, initials_key ON students_student
    WHEN NEW.name IS NOT OLD.name OR NEW.former_name IS NOT OLD.former_name
        OR NEW.pinyin_key IS NOT OLD.pinyin_key OR NEW.initials_key IS NOT OLD.initials_key
    BEGIN
        DELETE FROM students_searchkey WHERE record_id IN (
            SELECT id FROM students_studentrecord WHERE student_id = NEW.id
        );
        INSERT INTO students_searchkey (record_id, school_id, key, record_open, pinyin)
        SELECT record.id, record.school_id, keys.key, record.status IN {OPEN}, NEW.pinyin_key
        FROM students_studentrecord AS record, (
            SELECT NEW.name AS key UNION SELECT NEW.former_name
            UNION SELECT NEW.pinyin_key UNION SELECT NEW.initials_key
        ) AS keys
        WHERE record.student_id = NEW.id AND keys.key <> '';
    END
    """,
    f"""
    CREATE TRIGGER students_searchkey_record_status
    AFTER UPDATE OF status ON students_studentrecord
    WHEN (OLD.status IN {OPEN}) IS NOT (NEW.status IN {OPEN})
    BEGIN
        UPDATE students_searchkey SET record_open = (NEW.status IN {OPEN})
        WHERE record_id = NEW.id;
    END
    """,
]

POSTGRESQL = [
    f"""
    CREATE FUNCTION students_searchkey_records_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO students_searchkey (record_id, school_id, key, record_open, pinyin)
        SELECT DISTINCT record.id, record.school_id, keys.key, record.status IN {OPEN},
            student.pinyin_key
        FROM inserted_records AS record
        JOIN students_student AS student ON student.id = record.student_id
        CROSS JOIN LATERAL (VALUES (student.name), (student.former_name),
            (student.pinyin_key), (student.initials_key)) AS keys (key)
        WHERE keys.key <> '';
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE FUNCTION students_searchkey_students_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM students_searchkey AS key
        USING students_studentrecord AS record, updated_students AS after,
            previous_students AS before
        WHERE key.record_id = record.id AND record.student_id = after.id
            AND before.id = after.id
            AND (after.name, after.former_name, after.pinyin_key, after.initials_key)
                IS DISTINCT FROM
                (before.name, before.former_name, before.pinyin_key, before.initials_key);
        INSERT INTO students_searchkey (record_id, school_id, key, record_open, pinyin)
        SELECT DISTINCT record.id, record.school_id, keys.key, record.status IN {OPEN},
            after.pinyin_key
        FROM students_studentrecord AS record
        JOIN updated_students AS after ON after.id = record.student_id
        JOIN previous_students AS before ON before.id = after.id
        CROSS JOIN LATERAL (VALUES (after.name), (after.former_name),
            (after.pinyin_key), (after.initials_key)) AS keys (key)
        WHERE keys.key <> ''
            AND (after.name, after.former_name, after.pinyin_key, after.initials_key)
                IS DISTINCT FROM
                (before.name, before.former_name, before.pinyin_key, before.initials_key);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER students_searchkey_record_insert
    AFTER INSERT ON students_studentrecord
    REFERENCING NEW TABLE AS inserted_records
    FOR EACH STATEMENT EXECUTE FUNCTION students_searchkey_records_inserted()
    """,
    """
    CREATE TRIGGER students_searchkey_student_update
    AFTER UPDATE ON students_student
    REFERENCING OLD TABLE AS previous_students NEW TABLE AS updated_students
    FOR EACH STATEMENT EXECUTE FUNCTION students_searchkey_students_updated()
    """,
    f"""
    CREATE FUNCTION students_searchkey_records_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE students_searchkey AS key
        SET record_open = after.status IN {OPEN}
        FROM updated_records AS after
        JOIN previous_records AS before ON before.id = after.id
        WHERE key.record_id = after.id
            AND (after.status IN {OPEN}) IS DISTINCT FROM (before.status IN {OPEN});
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER students_searchkey_record_status
    AFTER UPDATE ON students_studentrecord
    REFERENCING OLD TABLE AS previous_records NEW TABLE AS updated_records
    FOR EACH STATEMENT EXECUTE FUNCTION students_searchkey_records_updated()
    """,
]

# The copies for the keys already there (both databases), before the index is built.
FILL = f"""
    UPDATE students_searchkey SET
        record_open = (SELECT record.status IN {OPEN} FROM students_studentrecord AS record
            WHERE record.id = students_searchkey.record_id),
        pinyin = (SELECT student.pinyin_key FROM students_studentrecord AS record
            JOIN students_student AS student ON student.id = record.student_id
            WHERE record.id = students_searchkey.record_id)
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(vendor)
    if statements is None:
        raise RuntimeError(f"Xueji runs on SQLite or PostgreSQL, not {vendor}")
    for statement in statements:
        schema_editor.execute(statement)
    schema_editor.execute(FILL)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = ["DROP TRIGGER IF EXISTS students_searchkey_record_status"]
    else:
        statements = [
            "DROP TRIGGER IF EXISTS students_searchkey_record_status ON students_studentrecord",
            "DROP FUNCTION IF EXISTS students_searchkey_records_updated()",
        ]
    for statement in statements:
        schema_editor.execute(statement)
    PREVIOUS.drop_triggers(apps, schema_editor)


def restore_previous_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": PREVIOUS.SQLITE, "postgresql": PREVIOUS.POSTGRESQL}[vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0004_placement_school_open"),
    ]

    operations = [
        # Migration 0003's triggers go first: SQLite rebuilds the key table to add the
        # columns, and will not while a trigger names it.
        migrations.RunPython(PREVIOUS.drop_triggers, restore_previous_triggers),
        migrations.RemoveIndex(model_name="searchkey", name="searchkey_school_prefix"),
        migrations.AddField(
            model_name="searchkey",
            name="pinyin",
            field=models.CharField(default="", max_length=100),
        ),
        migrations.AddField(
            model_name="searchkey",
            name="record_open",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.AddIndex(
            model_name="searchkey",
            index=models.Index(
                fields=["school", "key", "record_open", "pinyin", "record"],
                name="searchkey_school_key_cover",
                opclasses=["int8_ops", "varchar_pattern_ops", "bool_ops", "varchar_ops", "int8_ops"],
            ),
        ),
    ]
