// node-postgres (`pg`) against litescale: parameterised queries with every common type
// through a pool, update and delete, a committed and a rolled-back transaction, a unique
// violation (23505), a named prepared statement reused, and 1,000 inserts in one
// transaction. Run by tests/e2e/drivers.rs with the server's port; exits non-zero on the
// first failure. `pg` comes from tests/drivers/package.json (npm install, in .ci/run).
process.env.TZ = 'UTC'; // pg reads date and timestamp as local times
const assert = require('assert/strict');
const { Pool } = require('pg');

const pool = new Pool({
  host: '127.0.0.1',
  port: Number(process.argv[2]),
  user: 'postgres',
  database: 'postgres',
  max: 4,
});

async function main() {
  await pool.query(`create table node_t (
    id int primary key, big bigint, f float8, n numeric(12, 2), t text, b bytea,
    ok boolean, d date, ts timestamp, tz timestamptz, j json, u uuid)`);
  const at = new Date('2024-05-06T07:08:09.123Z');
  const row = [
    1, '9007199254740993', 1.5, '12345.67', 'héllo ✓ 🐘', Buffer.from([0, 1, 2, 255]),
    true, '2024-05-06', '2024-05-06 07:08:09.123', at, { a: [1, 2] },
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  ];
  await pool.query(
    'insert into node_t values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)', row);
  await pool.query('insert into node_t (id) values ($1)', [2]);
  const got = (await pool.query('select * from node_t where id = $1', [1])).rows[0];
  assert.deepEqual(got, {
    id: 1, big: '9007199254740993', f: 1.5, n: '12345.67', t: 'héllo ✓ 🐘',
    b: Buffer.from([0, 1, 2, 255]), ok: true, d: new Date('2024-05-06T00:00:00Z'),
    ts: new Date('2024-05-06T07:08:09.123Z'), tz: at, j: { a: [1, 2] },
    u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  });
  const nulls = (await pool.query('select * from node_t where id = 2')).rows[0];
  assert.ok(Object.entries(nulls).every(([k, v]) => k === 'id' || v === null), 'NULLs');

  assert.equal((await pool.query('update node_t set t = $1 where id = $2', ['x', 2])).rowCount, 1);
  assert.equal((await pool.query('delete from node_t where id = $1', [2])).rowCount, 1);

  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('insert into node_t (id, t) values ($1, $2)', [10, 'kept']);
    await client.query('commit');
    await client.query('begin');
    await client.query('insert into node_t (id, t) values ($1, $2)', [11, 'dropped']);
    await client.query('rollback');
    const ids = (await client.query('select id from node_t order by id')).rows.map((r) => r.id);
    assert.deepEqual(ids, [1, 10]);

    await assert.rejects(
      client.query('insert into node_t (id) values ($1)', [1]),
      (e) => e.code === '23505');

    for (let i = 0; i < 200; i++) {
      const r = await client.query({ name: 'by-id', text: 'select t from node_t where id = $1', values: [10] });
      assert.equal(r.rows[0].t, 'kept');
    }

    await client.query('begin');
    for (let i = 0; i < 1000; i++) {
      await client.query({ name: 'add', text: 'insert into node_t (id, big) values ($1, $2)', values: [1000 + i, i] });
    }
    await client.query('commit');
    const sum = (await client.query('select count(*)::int as n, sum(big)::int as s from node_t where id >= 1000')).rows[0];
    assert.deepEqual(sum, { n: 1000, s: 499500 });
  } finally {
    client.release();
  }
  await pool.end();
  console.log('node pg ok');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
