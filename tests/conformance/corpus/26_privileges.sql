-- GRANT and REVOKE of table, view and sequence privileges as migrations and pg_dump write
-- them, and the catalogs that show them (pg_class.relacl, information_schema's
-- table_privileges, has_table_privilege, has_sequence_privilege). Roles are made here for
-- PostgreSQL; litescale's roles are its config's users (any name where none are
-- configured). What a role may then do is tested end to end (tests/e2e/privileges.rs).
CREATE TABLE accounts (id serial PRIMARY KEY, owner text, balance numeric);
CREATE VIEW balances AS SELECT owner, balance FROM accounts;
CREATE SEQUENCE tickets;
CREATE TABLE ledger (id int);
-- statements
CREATE ROLE reader;
CREATE ROLE writer;
SELECT relname, relacl::text FROM pg_class WHERE relname IN ('accounts', 'balances', 'tickets') ORDER BY 1;
GRANT SELECT ON accounts TO reader;
GRANT SELECT, INSERT, UPDATE ON TABLE accounts TO writer;
GRANT ALL ON balances TO writer WITH GRANT OPTION;
GRANT USAGE, SELECT ON SEQUENCE tickets TO writer;
GRANT USAGE ON SEQUENCE accounts_id_seq TO writer;
GRANT SELECT ON accounts, balances TO PUBLIC;
GRANT SELECT ON accounts TO reader;
SELECT relname, relacl::text FROM pg_class WHERE relname IN ('accounts', 'balances', 'tickets', 'accounts_id_seq', 'ledger') ORDER BY 1;
SELECT grantor, grantee, table_name, privilege_type, is_grantable, with_hierarchy FROM information_schema.table_privileges WHERE table_schema = 'public' AND table_name IN ('accounts', 'balances', 'ledger') ORDER BY 3, 2, 4;
SELECT has_table_privilege('reader', 'accounts', 'SELECT'), has_table_privilege('reader', 'accounts', 'INSERT'), has_table_privilege('writer', 'accounts', 'insert, delete'), has_table_privilege('writer', 'balances', 'SELECT WITH GRANT OPTION');
SELECT has_table_privilege('reader', 'public.accounts', 'UPDATE'), has_sequence_privilege('writer', 'tickets', 'USAGE'), has_sequence_privilege('reader', 'tickets', 'USAGE');
SELECT has_table_privilege('accounts', 'SELECT'), has_table_privilege('postgres', 'accounts', 'TRUNCATE'), has_table_privilege('reader', 'ledger', 'SELECT');
SELECT c.relname, has_table_privilege('writer', c.oid, 'UPDATE') FROM pg_class c WHERE c.relname IN ('accounts', 'balances') ORDER BY 1;
SELECT has_table_privilege('reader', 'missing', 'SELECT');
SELECT has_table_privilege('reader', 'accounts', 'FLY');
REVOKE INSERT ON accounts FROM writer;
REVOKE GRANT OPTION FOR ALL ON balances FROM writer;
REVOKE ALL ON accounts FROM PUBLIC;
REVOKE ALL ON ledger FROM PUBLIC;
REVOKE SELECT ON ledger FROM reader;
SELECT relname, relacl::text FROM pg_class WHERE relname IN ('accounts', 'balances', 'ledger') ORDER BY 1;
GRANT ALL ON ALL TABLES IN SCHEMA public TO reader;
SELECT c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM reader;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO reader;
SELECT c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1;
GRANT SELECT ON missing TO reader;
GRANT SELECT ON SEQUENCE accounts TO reader;
GRANT INSERT ON SEQUENCE tickets TO reader;
GRANT USAGE ON accounts TO reader;
GRANT SELECT ON ALL TABLES IN SCHEMA nowhere TO reader;
GRANT SELECT (owner) ON accounts TO reader;
GRANT reader TO writer;
GRANT USAGE ON SCHEMA public TO reader;
ALTER TABLE accounts ADD COLUMN note text;
ALTER TABLE accounts ALTER COLUMN owner SET NOT NULL;
ALTER TABLE accounts ALTER COLUMN id TYPE bigint;
ALTER TABLE accounts RENAME TO wallets;
SELECT relname, relacl::text FROM pg_class WHERE relname IN ('accounts', 'wallets');
SELECT conname FROM pg_constraint WHERE conrelid = 'wallets'::regclass ORDER BY 1;
COMMENT ON TABLE wallets IS 'money';
SELECT obj_description('wallets'::regclass, 'pg_class'), relacl::text FROM pg_class WHERE relname = 'wallets';
CREATE SCHEMA app;
CREATE TABLE app.orders (id int);
GRANT SELECT, DELETE ON app.orders TO writer;
GRANT SELECT ON ALL TABLES IN SCHEMA app TO reader;
SELECT c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app';
SELECT table_schema, table_name, grantee, privilege_type FROM information_schema.table_privileges WHERE table_schema = 'app' ORDER BY 3, 4;
GRANT SELECT ON ledger TO PUBLIC WITH GRANT OPTION;
GRANT SELECT, UPDATE, INSERT ON TABLE tickets TO reader;
SELECT relacl::text FROM pg_class WHERE relname = 'tickets';
GRANT ALL PRIVILEGES ON TABLE ledger TO writer;
REVOKE UPDATE, TRUNCATE ON ledger FROM writer;
SELECT relacl::text FROM pg_class WHERE relname = 'ledger';
