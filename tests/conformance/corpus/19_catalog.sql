-- The catalog as ORMs and migration tools read it: information_schema (tables, columns,
-- views, constraints and their columns) and pg_tables, pg_views, pg_indexes, with the
-- queries knex, Sequelize, TypeORM and Rails send.
CREATE TABLE authors (id int PRIMARY KEY, name varchar(100) NOT NULL, email text UNIQUE, score numeric(10,2) DEFAULT 0, born date, created timestamptz DEFAULT now(), tags text[], active boolean DEFAULT true, rating double precision, code char(4), big bigint, small smallint);
CREATE TABLE books (id bigint PRIMARY KEY, author_id int REFERENCES authors(id) ON DELETE CASCADE, title varchar(200), price real);
CREATE TABLE pairs (a int, b int, note text, PRIMARY KEY (a, b));
CREATE INDEX books_title_idx ON books (title);
CREATE VIEW cheap_books AS SELECT id, title FROM books WHERE price < 10;
-- statements
select * from information_schema.tables where table_name = 'authors' and table_schema = current_schema();
SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name;
SELECT table_name, is_insertable_into FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name;
SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'missing';
SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'books');
select * from information_schema.columns where table_name = 'authors' and column_name = 'email' and table_schema = current_schema();
SELECT column_name, data_type, is_nullable, column_default, ordinal_position FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'authors' ORDER BY ordinal_position;
SELECT column_name, character_maximum_length, character_octet_length, numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision FROM information_schema.columns WHERE table_name = 'authors' ORDER BY ordinal_position;
SELECT column_name, udt_name, udt_schema, is_identity, is_generated, is_updatable FROM information_schema.columns WHERE table_name = 'authors' ORDER BY ordinal_position;
SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'books' ORDER BY ordinal_position;
SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'cheap_books' ORDER BY ordinal_position;
SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'id' ORDER BY table_name;
SELECT c.column_name, c.data_type || CASE WHEN c.character_maximum_length IS NOT NULL THEN '(' || c.character_maximum_length || ')' ELSE '' END AS type, c.is_nullable, pk.constraint_type FROM information_schema.columns c LEFT JOIN (SELECT tc.table_schema, tc.table_name, cu.column_name, tc.constraint_type FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage cu ON tc.table_schema = cu.table_schema AND tc.table_name = cu.table_name AND tc.constraint_name = cu.constraint_name AND tc.constraint_type = 'PRIMARY KEY') pk ON pk.table_schema = c.table_schema AND pk.table_name = c.table_name AND pk.column_name = c.column_name WHERE c.table_name = 'books' AND c.table_schema = 'public' ORDER BY c.ordinal_position;
SELECT constraint_name, constraint_type, is_deferrable, initially_deferred FROM information_schema.table_constraints WHERE table_name = 'authors' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY') ORDER BY constraint_name;
SELECT constraint_name, constraint_type FROM information_schema.table_constraints WHERE table_name = 'books' AND constraint_type <> 'CHECK' ORDER BY constraint_name;
SELECT constraint_name, constraint_type FROM information_schema.table_constraints WHERE table_name = 'pairs' AND constraint_type <> 'CHECK';
SELECT constraint_name, column_name, ordinal_position, position_in_unique_constraint FROM information_schema.key_column_usage WHERE table_name = 'pairs' ORDER BY ordinal_position;
SELECT constraint_name, column_name, ordinal_position, position_in_unique_constraint FROM information_schema.key_column_usage WHERE table_name = 'books' ORDER BY constraint_name, ordinal_position;
SELECT kcu.column_name, kcu.constraint_name FROM information_schema.key_column_usage kcu WHERE kcu.table_name = 'authors' ORDER BY kcu.constraint_name;
SELECT tc.constraint_name, kcu.column_name, ccu.table_name AS foreign_table_name, ccu.column_name AS foreign_column_name FROM information_schema.table_constraints AS tc JOIN information_schema.key_column_usage AS kcu ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema JOIN information_schema.constraint_column_usage AS ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = 'books';
SELECT constraint_name, unique_constraint_name, match_option, update_rule, delete_rule FROM information_schema.referential_constraints ORDER BY constraint_name;
SELECT table_name, column_name, constraint_name FROM information_schema.constraint_column_usage WHERE table_name = 'authors' ORDER BY constraint_name, column_name;
SELECT table_name, check_option, is_updatable FROM information_schema.views WHERE table_schema = 'public';
SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'public';
SELECT count(*) FROM information_schema.sequences WHERE sequence_schema = 'public';
SELECT tablename, hasindexes FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename;
SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = ANY (current_schemas(false)) ORDER BY tablename;
SELECT viewname FROM pg_views WHERE schemaname = 'public';
SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'books' AND indexname NOT LIKE '%pkey' ORDER BY indexname;
SELECT indexname FROM pg_indexes WHERE tablename = 'authors' AND indexname LIKE '%key' ORDER BY indexname;
SELECT count(*) FROM pg_matviews;
SELECT count(*) FROM pg_sequences WHERE schemaname = 'public';
SELECT count(*) FROM pg_enum;
SELECT t.typname, r.rngsubtype FROM pg_type t JOIN pg_range r ON r.rngtypid = t.oid WHERE t.typname = 'no_such_range';
CREATE TABLE later (id int PRIMARY KEY, label text NOT NULL);
SELECT table_name FROM information_schema.tables WHERE table_name = 'later';
SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'later' ORDER BY ordinal_position;
DROP TABLE later;
SELECT count(*) FROM information_schema.columns WHERE table_name = 'later';
