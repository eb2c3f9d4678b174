// knex 3 against a server on 127.0.0.1:<port>, as a project uses it: migrations run by
// knex's migrator (with its lock table) that create tables, then alter them (a column
// added, one altered, one renamed, one dropped), hasTable / hasColumn, the query builder,
// transactions committed and rolled back, a streamed query (pg-query-stream), the last
// migration down and up, every batch rolled back and the latest again. Prints "knex ok" at its end; exits non-zero on the first failure.
//
//   node tests/frameworks/node/knex.js <port>
'use strict';
const assert = require('assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Client } = require('pg');
const knexFactory = require('knex');

const MIGRATIONS = {
  '001_create.js': `
exports.up = async (knex) => {
  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('name', 50).notNullable();
    t.string('email').unique();
    t.timestamps(true, true);
  });
  await knex.schema.createTable('posts', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('title').notNullable().index();
    t.text('body');
    t.jsonb('meta');
  });
};
exports.down = async (knex) => {
  await knex.schema.dropTable('posts');
  await knex.schema.dropTable('users');
};`,
  '002_alter.js': `
exports.up = async (knex) => {
  await knex.schema.alterTable('users', (t) => {
    t.boolean('active').notNullable().defaultTo(true);
    t.string('name', 200).notNullable().alter();
    t.renameColumn('email', 'mail');
  });
  await knex.schema.alterTable('posts', (t) => {
    t.dropColumn('body');
    t.unique(['user_id', 'title']);
  });
};
exports.down = async (knex) => {
  await knex.schema.alterTable('posts', (t) => {
    t.dropUnique(['user_id', 'title']);
    t.text('body');
  });
  await knex.schema.alterTable('users', (t) => {
    t.renameColumn('mail', 'email');
    t.string('name', 50).notNullable().alter();
    t.dropColumn('active');
  });
};`,
};

async function main() {
  const port = Number(process.argv[2]);
  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS knex');
  await admin.query('CREATE DATABASE knex');
  await admin.end();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'knex-'));
  for (const [name, text] of Object.entries(MIGRATIONS)) {
    fs.writeFileSync(path.join(dir, name), text);
  }
  const knex = knexFactory({
    client: 'pg',
    connection: { host: '127.0.0.1', port, user: 'postgres', database: 'knex' },
    migrations: { directory: dir },
    pool: { min: 1, max: 4 },
  });
  try {
    const [, applied] = await knex.migrate.latest();
    assert.deepEqual(applied, ['001_create.js', '002_alter.js']);
    assert.equal(await knex.schema.hasTable('users'), true);
    assert.equal(await knex.schema.hasTable('missing'), false);
    assert.equal(await knex.schema.hasColumn('users', 'mail'), true);
    assert.equal(await knex.schema.hasColumn('users', 'email'), false);
    assert.equal(await knex.schema.hasColumn('posts', 'body'), false);

    const [ann] = await knex('users').insert({ name: 'Ann', mail: 'ann@x' }).returning(['id', 'active']);
    assert.equal(ann.active, true);
    await knex('posts').insert([
      { user_id: ann.id, title: 'first', meta: { tags: ['a'] } },
      { user_id: ann.id, title: 'second', meta: { tags: [] } },
    ]);
    const rows = await knex('posts')
      .join('users', 'users.id', 'posts.user_id')
      .select('users.name', 'posts.title')
      .where('posts.title', 'like', 's%')
      .orderBy('posts.id');
    assert.deepEqual(rows, [{ name: 'Ann', title: 'second' }]);
    const [{ count }] = await knex('posts').count('* as count');
    assert.equal(Number(count), 2);
    const tagged = await knex('posts').whereRaw("meta->'tags' @> ?", [JSON.stringify(['a'])]).pluck('title');
    assert.deepEqual(tagged, ['first']);

    await knex.transaction(async (trx) => {
      await trx('users').insert({ name: 'Bob', mail: 'bob@x' });
    });
    await assert.rejects(
      knex.transaction(async (trx) => {
        await trx('users').insert({ name: 'Cy', mail: 'cy@x' });
        await trx('users').insert({ name: 'Dup', mail: 'bob@x' });
      }),
      (e) => e.code === '23505',
    );
    assert.deepEqual(await knex('users').orderBy('id').pluck('name'), ['Ann', 'Bob']);

    const streamed = [];
    await new Promise((resolve, reject) => {
      const stream = knex('users').select('name').orderBy('id').stream();
      stream.on('data', (row) => streamed.push(row.name));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    assert.deepEqual(streamed, ['Ann', 'Bob']);

    // The last migration undone, then the whole batch, then all again.
    await knex.migrate.down();
    assert.equal(await knex.schema.hasColumn('users', 'email'), true);
    assert.equal(await knex.schema.hasColumn('users', 'active'), false);
    assert.equal(await knex.schema.hasColumn('posts', 'body'), true);
    assert.deepEqual(await knex('users').orderBy('id').pluck('email'), ['ann@x', 'bob@x']);
    await knex.migrate.up();
    await knex.migrate.rollback({}, true);
    assert.equal(await knex.schema.hasTable('users'), false);
    await knex.migrate.latest();
    assert.equal(await knex.schema.hasColumn('users', 'active'), true);
    await knex('users').insert([{ name: 'Ann', mail: 'ann@x' }, { name: 'Bob', mail: 'bob@x' }]);
    assert.equal(await knex.schema.hasColumn('users', 'active'), true);
    assert.deepEqual(await knex('users').orderBy('id').pluck('name'), ['Ann', 'Bob']);
  } finally {
    await knex.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log('knex ok');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
