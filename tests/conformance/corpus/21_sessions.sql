-- What a session holds beyond its statements: advisory locks (migration runners take them:
-- Rails, Prisma, golang-migrate, node-pg-migrate, Flyway).
CREATE TABLE migrations (version int PRIMARY KEY);
-- statements
SELECT pg_advisory_lock(72707369);
SELECT pg_try_advisory_lock(72707369);
SELECT pg_try_advisory_lock(3423434) AS locked;
SELECT pg_advisory_unlock(72707369);
SELECT pg_advisory_unlock(72707369);
SELECT pg_advisory_unlock(72707369);
SELECT pg_advisory_unlock(1);
SELECT pg_advisory_unlock_shared(3423434);
SELECT pg_advisory_lock_shared(7);
SELECT pg_try_advisory_lock_shared(7);
SELECT pg_advisory_unlock_shared(7);
SELECT pg_advisory_lock(1, 2);
SELECT pg_advisory_unlock(1, 2);
SELECT pg_advisory_lock(1, 3000000000);
SELECT pg_advisory_lock(NULL);
SELECT pg_advisory_unlock_all();
SELECT pg_advisory_unlock(3423434);
BEGIN;
SELECT pg_advisory_xact_lock(11);
SELECT pg_try_advisory_xact_lock(11);
INSERT INTO migrations VALUES (1);
SELECT pg_advisory_unlock(11);
COMMIT;
SELECT pg_try_advisory_xact_lock(12);
SELECT pg_advisory_lock(version) FROM migrations;
SELECT version, pg_try_advisory_lock(5) FROM migrations;
SELECT pg_advisory_lock(1, 2, 3);
SELECT pg_sleep(0.01);
SELECT pg_sleep(NULL) AS slept;
