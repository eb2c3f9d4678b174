SELECT abalance FROM pgbench_accounts WHERE aid = 1
SELECT abalance FROM pgbench_accounts WHERE aid = $1
SELECT * FROM pgbench_accounts WHERE aid IN (1, 2, 3)
SELECT * FROM pgbench_accounts WHERE aid = ANY(ARRAY[4, 5])
SELECT * FROM pgbench_accounts WHERE bid = 1 AND aid = 6
SELECT count(*) FROM pgbench_accounts
SELECT * FROM pgbench_accounts WHERE aid > 10
SELECT * FROM pgbench_accounts WHERE aid = $1
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 1
UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2
UPDATE pgbench_accounts SET abalance = 0
DELETE FROM pgbench_accounts WHERE aid = 7
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 2, 5, CURRENT_TIMESTAMP)
INSERT INTO pgbench_accounts (aid, bid, abalance) VALUES (1, 1, 0), (2, 1, 0)
INSERT INTO pgbench_accounts (aid, bid, abalance) VALUES ($1, 1, 0), ($2, 1, 0), ($3, 1, 0) RETURNING aid
INSERT INTO pgbench_accounts (aid, bid, abalance) VALUES (3, 1, 0), (5, 1, 0)
INSERT INTO pgbench_accounts VALUES (1, 1, 0, '')
SELECT a.abalance, h.delta FROM pgbench_accounts a JOIN pgbench_history h ON a.aid = h.aid WHERE a.aid = 1 AND h.aid = 1
SELECT * FROM currencies
INSERT INTO currencies VALUES ('EUR')
SELECT * FROM audit
INSERT INTO audit VALUES (1, 'x')
SELECT * FROM never_configured
SELECT * FROM events WHERE day = 150
SELECT * FROM events WHERE day = -3
CREATE TABLE pgbench_accounts (aid INT PRIMARY KEY, bid INT, abalance INT, filler CHAR(84))
DROP TABLE IF EXISTS a, b
SELECT aid, abalance FROM pgbench_accounts WHERE abalance > 0
SELECT aid, abalance FROM pgbench_accounts ORDER BY abalance DESC, aid LIMIT 10 OFFSET 5
SELECT count(*), sum(abalance), min(aid), max(aid), avg(abalance) FROM pgbench_accounts
SELECT bid, count(*), avg(abalance) FROM pgbench_accounts GROUP BY bid ORDER BY bid
SELECT DISTINCT bid FROM pgbench_accounts ORDER BY 1
SELECT bid, count(*) FROM pgbench_accounts GROUP BY bid HAVING count(*) > 1
SELECT count(DISTINCT bid) FROM pgbench_accounts
SELECT aid FROM pgbench_accounts ORDER BY abalance
SELECT * FROM pgbench_accounts ORDER BY aid
SELECT a.aid, t.tid FROM pgbench_accounts a JOIN pgbench_tellers t ON a.bid = t.bid WHERE a.aid = 1
SELECT count(*) FROM pgbench_accounts a JOIN pgbench_history h ON a.aid = h.aid
SELECT count(*) FROM pgbench_accounts a JOIN pgbench_history h ON a.bid = h.bid
CREATE TABLE pgbench_history (id SERIAL PRIMARY KEY, aid INT, delta INT)
CREATE TABLE audit (id SERIAL PRIMARY KEY, what TEXT)
CREATE TABLE pgbench_tellers (teller INT, bid INT)
CREATE TABLE pgbench_tellers (TID INT PRIMARY KEY, bid INT)
ALTER TABLE pgbench_accounts DROP COLUMN aid
ALTER TABLE pgbench_accounts RENAME COLUMN aid TO account
ALTER TABLE pgbench_accounts RENAME TO accounts
ALTER TABLE audit RENAME TO pgbench_branches
ALTER TABLE pgbench_accounts ADD COLUMN note TEXT
ALTER TABLE scratch RENAME TO scratch2
/* partition: 2 */ SELECT count(*) FROM pgbench_accounts
SELECT count(*) FROM pgbench_accounts /* key: 1 */
/* partition: 9 */ SELECT 1
UPDATE pgbench_accounts SET abalance = 0 -- key: 5
SELECT sum(abalance)::bigint FROM pgbench_accounts
SELECT count(*) * 2 FROM pgbench_accounts
SELECT string_agg(filler, ',') FROM pgbench_accounts
SELECT aid, count(*) OVER () FROM pgbench_accounts
SELECT
SELECT (((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))
SELECT 'unterminated
SELECT $$ dollar $$ || $x$ tagged $x$
SELECT E'\x41\101\u0041'
SELECT 1e400, -9223372036854775808, 9223372036854775808
SELECT date '2024-02-30' + interval '1 month'
INSERT INTO accounts (aid) VALUES ($1), ($2), ($3) RETURNING *
INSERT INTO accounts SELECT * FROM accounts
UPDATE accounts SET aid = aid + 1 WHERE aid = 1
DELETE FROM accounts WHERE aid IN (SELECT aid FROM history)
COPY accounts (aid, bid) FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER '|', NULL '', QUOTE '''')
COPY (SELECT * FROM accounts WHERE aid = 1) TO STDOUT
VACUUM FULL ANALYZE accounts, history
VACUUM INTO '/tmp/x'
ATTACH DATABASE '/tmp/x' AS x
PRAGMA writable_schema = ON
SELECT * FROM _litescale_commits
SELECT pg_read_file('/etc/passwd')
CREATE DATABASE "../x"
DROP DATABASE IF EXISTS a, b
SELECT count(*) OVER (PARTITION BY bid) FROM accounts
SELECT sum(abalance)::bigint FROM accounts
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT * FROM c
/* partition: 99999999999999999999 */ SELECT 1
/* key: */ SELECT * FROM accounts
SET statement_timeout = '1 fortnight'
BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY; SAVEPOINT a; ROLLBACK TO a; COMMIT
EXPLAIN EXPLAIN SELECT 1
SELECT '�'
