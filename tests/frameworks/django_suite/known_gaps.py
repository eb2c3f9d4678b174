"""litescale's known gaps in the slice of Django's test suite that run.py runs: for each, why
its tests fail (a minimal statement, litescale's answer, PostgreSQL 15's) and the ids of the
tests it fails. run.py expects exactly the tests of the gaps named in KNOWN_GAPS to fail.
"""

GAPS = {
    "daylight saving time after 2099": {
        "why": "SET TIME ZONE 'America/Chicago'; SELECT '2295-09-05 12:00:00+00'::timestamptz: litescale "
               "'2295-09-05 06:00:00-06', PostgreSQL '2295-09-05 07:00:00-05' (2050 is right).",
        "tests": [
            "expressions.tests.FTimeDeltaTests.test_datetime_subtraction_microseconds",
            "expressions.tests.FTimeDeltaTests.test_duration_with_datetime_microseconds",
        ],
    },
    "posix time zone names": {
        "why": "SELECT '2015-06-15 23:30:50+00'::timestamptz AT TIME ZONE 'UTC-05:00': litescale 22023 time "
               "zone not recognized, PostgreSQL '2015-06-16 04:30:50'.",
        "tests": ["db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_func_with_timezone"],
    },
    "pgcrypto sha1": {
        "why": "SELECT encode(digest('John Smith', 'sha1'), 'hex'): litescale 22023 'Cannot use \"sha1\": "
               "No such hash algorithm', PostgreSQL e61a3587b3f7a142b8c7b9263c82f8119398ecb7.",
        "tests": [
            "db_functions.text.test_sha1.SHA1Tests.test_basic",
            "db_functions.text.test_sha1.SHA1Tests.test_transform",
        ],
    },
    "regex back-references": {
        "why": "SELECT 'barfoobaz' ~ E'b(.).*b\\\\1': litescale 0A000, PostgreSQL t.",
        "tests": ["lookup.tests.LookupTests.test_regex_backreferencing"],
    },
    "icu collations": {
        "why": "SELECT x FROM (VALUES ('a'),('A'),('O'),('P')) v(x) ORDER BY x COLLATE \"sv-x-icu\": "
               "litescale A O P a (byte order), PostgreSQL a A O P.",
        "tests": ["db_functions.comparison.test_collate.CollateTests.test_language_collation_order_by"],
    },
    "parenthesized set operations": {
        "why": "(SELECT 1) as a whole statement: litescale 42601 near \"(\"; "
               "SELECT 1 WHERE ((SELECT 1) UNION (SELECT 2 WHERE false)) IS NOT NULL: litescale 42601; "
               "EXPLAIN (SELECT 1) UNION (SELECT 2): litescale 42601 (the parenthesis read as EXPLAIN's "
               "options); PostgreSQL runs all three.",
        "tests": [
            "queries.test_qs_combinators.QuerySetSetOperationTests.test_difference_with_empty_qs",
            "queries.test_qs_combinators.QuerySetSetOperationTests.test_difference_with_values",
            "queries.test_qs_combinators.QuerySetSetOperationTests.test_union_with_empty_qs",
            "queries.test_qs_combinators.QuerySetSetOperationTests.test_union_in_subquery",
            "queries.test_qs_combinators.QuerySetSetOperationTests.test_union_in_subquery_related_outerref",
        ],
    },
    "explain formats": {
        "why": "EXPLAIN (FORMAT JSON) SELECT 1 (and FORMAT XML): litescale answers its own two text lines, "
               "PostgreSQL a JSON (XML) plan; EXPLAIN of a 101-branch UNION: litescale 2 lines, PostgreSQL "
               "over 100. test_basic also runs EXPLAIN (SELECT ...) UNION (SELECT ...), see above.",
        "tests": [
            "queries.test_explain.ExplainTests.test_basic",
            "queries.test_explain.ExplainTests.test_multi_page_text_explain",
        ],
    },
    "row lock clauses": {
        "why": "SELECT ... FOR UPDATE OF a, b: litescale 42601 (one table only); SELECT ... FOR NO KEY UPDATE: "
               "42601; FOR UPDATE NOWAIT: 0A000; FOR UPDATE SKIP LOCKED while another transaction holds a "
               "row lock: litescale waits (until that transaction is ended by litescale's idle-in-transaction "
               "timeout, about 60 s: this test's minute), PostgreSQL returns the unlocked rows at once.",
        "tests": [
            "select_for_update.tests.SelectForUpdateTests.test_for_update_sql_generated_nowait",
            "select_for_update.tests.SelectForUpdateTests.test_for_update_sql_generated_of",
            "select_for_update.tests.SelectForUpdateTests.test_for_update_sql_model_inheritance_nested_ptr_generated_of",
            "select_for_update.tests.SelectForUpdateTests.test_for_update_sql_model_inheritance_ptr_generated_of",
            "select_for_update.tests.SelectForUpdateTests.test_for_update_sql_multilevel_model_inheritance_ptr_generated_of",
            "select_for_update.tests.SelectForUpdateTests.test_for_update_sql_related_model_inheritance_generated_of",
            "select_for_update.tests.SelectForUpdateTests.test_skip_locked_skips_locked_rows",
            "select_for_update.tests.SelectForUpdateTests.test_update_sql_generated_no_key",
        ],
    },
    "pg_cursors": {
        "why": "SELECT * FROM pg_cursors: litescale 42P01, PostgreSQL the session's open cursors (Django "
               "checks its server-side cursors there).",
        "tests": [
            "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres.test_closed_server_side_cursor",
            "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres.test_server_side_cursor",
            "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres.test_server_side_cursor_many_cursors",
            "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres.test_server_side_cursors_setting",
            "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres.test_values",
            "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres.test_values_list",
            "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres.test_values_list_fields_not_equal_to_names",
            "backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres.test_values_list_flat",
        ],
    },
    "distinct with order by outside the select list": {
        "why": "SELECT DISTINCT name FROM ex ORDER BY completed: litescale runs it, PostgreSQL 42P10 for "
               "SELECT DISTINCT, ORDER BY expressions must appear in select list (Django's test expects "
               "that error from COALESCE(name, $1) ... ORDER BY COALESCE(name, $2)).",
        "tests": ["backends.postgresql.test_server_side_cursors.ServerSideCursorsPostgres.test_server_side_binding"],
    },
    "set role": {
        "why": "SET ROLE 'django_nonexistent_role': litescale 0A000, PostgreSQL 22023 role does not exist "
               "(SET ROLE postgres: litescale 0A000, PostgreSQL SET).",
        "tests": ["backends.postgresql.tests.Tests.test_connect_role"],
    },
    "alter sequence rename": {
        "why": "CREATE SEQUENCE s1; ALTER SEQUENCE s1 RENAME TO s2: litescale 0A000, PostgreSQL ALTER SEQUENCE.",
        "tests": ["backends.postgresql.test_introspection.DatabaseSequenceTests.test_get_sequences"],
    },
    "plpgsql functions": {
        "why": "CREATE FUNCTION ... LANGUAGE plpgsql: litescale 0A000 (Django's callproc tests create one).",
        "tests": [
            "backends.test_utils.CursorWrapperTests.test_callproc_with_int_params",
            "backends.test_utils.CursorWrapperTests.test_callproc_without_params",
        ],
    },
}
