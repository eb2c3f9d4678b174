-- Materialized views as reporting code and pg_dump use them: CREATE [WITH [NO] DATA],
-- REFRESH [CONCURRENTLY] [WITH NO DATA], indexes on them, DROP; their columns' types and
-- the catalogs that list them (pg_matviews, pg_class, pg_attribute, information_schema).
CREATE TABLE sales (id int PRIMARY KEY, region varchar(10), amount numeric(10,2), at timestamptz);
INSERT INTO sales VALUES (1, 'n', 10, '2024-01-01 10:00+00'), (2, 's', 5.5, '2024-01-02 11:00+00'), (3, 'n', 1, '2024-02-01 12:00+00');
-- statements
CREATE MATERIALIZED VIEW by_region AS SELECT region, sum(amount) AS total, max(at) AS last_at, count(*) FROM sales GROUP BY region;
SELECT * FROM by_region ORDER BY region;
SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 'by_region' AND a.attnum > 0 ORDER BY a.attnum;
CREATE MATERIALIZED VIEW recent AS SELECT id, region, amount FROM sales WHERE id > 1 WITH DATA;
SELECT * FROM recent ORDER BY id;
CREATE MATERIALIZED VIEW later AS SELECT id, amount FROM sales WITH NO DATA;
SELECT relname, relkind, relispopulated FROM pg_class WHERE relkind = 'm' ORDER BY relname;
SELECT matviewname, hasindexes, ispopulated FROM pg_matviews ORDER BY matviewname;
SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name;
SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename;
INSERT INTO sales VALUES (4, 'e', 2, '2024-03-01 00:00+00');
SELECT count(*) FROM by_region;
REFRESH MATERIALIZED VIEW by_region;
SELECT * FROM by_region ORDER BY region;
REFRESH MATERIALIZED VIEW later;
SELECT * FROM later ORDER BY id;
CREATE UNIQUE INDEX later_id ON later (id);
SELECT matviewname, hasindexes, ispopulated FROM pg_matviews ORDER BY matviewname;
REFRESH MATERIALIZED VIEW CONCURRENTLY later;
SELECT count(*) FROM later;
REFRESH MATERIALIZED VIEW recent WITH NO DATA;
SELECT matviewname, ispopulated FROM pg_matviews ORDER BY matviewname;
REFRESH MATERIALIZED VIEW recent;
SELECT count(*) FROM recent;
REFRESH MATERIALIZED VIEW sales;
REFRESH MATERIALIZED VIEW nope;
CREATE MATERIALIZED VIEW by_region AS SELECT 1;
CREATE MATERIALIZED VIEW broken AS SELECT nope FROM sales;
DROP MATERIALIZED VIEW sales;
DROP MATERIALIZED VIEW nope;
DROP MATERIALIZED VIEW IF EXISTS nope, recent;
DROP MATERIALIZED VIEW later;
SELECT relname FROM pg_class WHERE relkind = 'm' ORDER BY relname;
BEGIN;
CREATE MATERIALIZED VIEW in_block AS SELECT id FROM sales;
SELECT count(*) FROM in_block;
ROLLBACK;
SELECT count(*) FROM pg_matviews WHERE matviewname = 'in_block';
