-- The project's schema, loaded with `pgcli -f`: two related tables, a second schema whose
-- table references the first, a view, a function and an enum type, each a kind of object
-- pgcli's completion loads.
CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email varchar(200));
CREATE TABLE posts (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), title text NOT NULL);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), amount numeric(10, 2) NOT NULL);
CREATE VIEW active_users AS SELECT id, name FROM users WHERE email IS NOT NULL;
CREATE FUNCTION add_tax(amount numeric) RETURNS numeric LANGUAGE sql AS 'SELECT amount * 1.2';
CREATE TYPE mood AS ENUM ('sad', 'happy');
INSERT INTO users (name, email) VALUES ('ann', 'ann@example.com'), ('bob', NULL);
INSERT INTO posts (user_id, title) VALUES (1, 'hello world'), (2, 'second post');
INSERT INTO billing.invoices (user_id, amount) VALUES (1, 12.50);
