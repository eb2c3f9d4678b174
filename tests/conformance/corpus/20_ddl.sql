-- Schema statements as migrations write them: CREATE INDEX in every form ORMs and pg_dump
-- send (unnamed, IF NOT EXISTS, CONCURRENTLY, USING, INCLUDE, partial, expression, unique),
-- checked through pg_indexes and by the rules the indexes enforce.
CREATE TABLE items (id int PRIMARY KEY, sku text, name text, price numeric(10,2), tags jsonb);
INSERT INTO items VALUES (1, 'A-1', 'Apple', 1.50, '{"c":"fruit"}'), (2, 'B-2', 'Banana', 0.25, '{"c":"fruit"}');
-- statements
CREATE INDEX ON items (name);
CREATE INDEX ON items (name, price);
CREATE INDEX ON items (lower(name));
CREATE UNIQUE INDEX ON items (sku);
CREATE INDEX IF NOT EXISTS items_name_idx ON items (name);
CREATE INDEX CONCURRENTLY items_price_idx ON items (price);
CREATE INDEX items_sku_incl ON items USING btree (sku) INCLUDE (name);
CREATE INDEX items_tags_idx ON items USING gin (tags);
CREATE INDEX items_cheap ON items (price) WHERE price < 1;
SELECT indexname FROM pg_indexes WHERE tablename = 'items' ORDER BY indexname;
INSERT INTO items VALUES (3, 'A-1', 'Apricot', 2.00, NULL);
SELECT count(*) FROM items;
CREATE INDEX items_name_idx ON items (sku);
DROP INDEX items_name_idx;
DROP INDEX IF EXISTS items_name_idx;
SELECT indexname FROM pg_indexes WHERE tablename = 'items' AND indexname LIKE 'items_name%' ORDER BY indexname;
