// Drizzle ORM 0.45 (drizzle-kit 0.31) against a server on 127.0.0.1:<port>, as a project
// uses it: the schema in drizzle/schema.js (identity and serial keys, an enum, uuid, jsonb,
// timestamptz defaults, a cascading foreign key, an index, unique and check constraints)
// turned into SQL by `drizzle-kit generate` and applied by `drizzle-kit migrate`; then
// drizzle-orm/node-postgres: inserts returning, filters, joins, relational queries,
// aggregates, update / delete returning, upserts, transactions committed, rolled back and
// nested (savepoints), jsonb; then the edited schema (drizzle/schema.next.js) turned into
// its migration by `drizzle-kit generate` and applied by `drizzle-kit migrate`. After
// each, `drizzle-kit push` introspects the database and must find it equal to the schema
// (known gap "push": litescale cannot answer its index introspection, a LATERAL over
// unnest/generate_subscripts of pg_index.indkey, so push fails there). Prints "drizzle ok"
// at its end; exits non-zero on the first failure.
//
//   node tests/frameworks/node/drizzle.js <port>
'use strict';
const assert = require('assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Client, Pool } = require('pg');
const { and, count, desc, eq, inArray, like, or, sql, TransactionRollbackError } = require('drizzle-orm');
const { drizzle } = require('drizzle-orm/node-postgres');

const NODE_MODULES = path.join(__dirname, 'node_modules');

// Runs a drizzle-kit command in the project, as `npx drizzle-kit <args>` does; returns its
// output (drizzle-kit reports to both streams, so they are merged).
function drizzleKit(dir, url, ...args) {
  const bin = path.join(NODE_MODULES, 'drizzle-kit', 'bin.cjs');
  try {
    return execFileSync(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: url },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    throw new Error(`drizzle-kit ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
  }
}

const KNOWN_GAPS = (process.env.KNOWN_GAPS || '').split(',').filter(Boolean);

// `drizzle-kit push`, which must find the database equal to the schema; where push is a
// known gap, it must fail (so that the gap is dropped the day it works).
function pushFindsNoChanges(dir, url) {
  if (!KNOWN_GAPS.includes('push')) {
    assert.match(drizzleKit(dir, url, 'push', '--force'), /No changes detected/);
    return;
  }
  assert.throws(() => drizzleKit(dir, url, 'push', '--force'), /drizzle-kit push --force failed/);
}

// A rejection check for a database error: drizzle wraps the driver's error (its cause).
const sqlstate = (code) => (e) => (e.cause ?? e).code === code;

// (Re)loads the project's schema module, as the app does when it starts.
function loadSchema(dir) {
  const file = path.join(dir, 'src', 'schema.js');
  delete require.cache[require.resolve(file)];
  return require(file);
}

async function main() {
  const port = Number(process.argv[2]);
  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS drizzle');
  await admin.query('CREATE DATABASE drizzle');
  await admin.end();
  const url = `postgres://postgres@127.0.0.1:${port}/drizzle`;

  // The project: its config and schema, and node_modules where drizzle-kit resolves them.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drizzle-'));
  fs.mkdirSync(path.join(dir, 'src'));
  fs.copyFileSync(path.join(__dirname, 'drizzle', 'drizzle.config.js'), path.join(dir, 'drizzle.config.js'));
  fs.copyFileSync(path.join(__dirname, 'drizzle', 'schema.js'), path.join(dir, 'src', 'schema.js'));
  fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'), 'dir');

  const pool = new Pool({ connectionString: url, max: 4 });
  try {
    // generate writes the first migration from the schema alone; a second run finds nothing new.
    drizzleKit(dir, url, 'generate', '--name', 'init');
    const migrations = fs.readdirSync(path.join(dir, 'migrations')).filter((f) => f.endsWith('.sql'));
    assert.deepEqual(migrations, ['0000_init.sql']);
    const ddl = fs.readFileSync(path.join(dir, 'migrations', '0000_init.sql'), 'utf8');
    assert.match(ddl, /CREATE TYPE "public"\."role" AS ENUM/);
    assert.match(ddl, /GENERATED ALWAYS AS IDENTITY/);
    assert.match(ddl, /ON DELETE cascade/);
    assert.match(drizzleKit(dir, url, 'generate'), /No schema changes/);

    // migrate applies it and records it in drizzle.__drizzle_migrations; a second run is a no-op.
    drizzleKit(dir, url, 'migrate');
    drizzleKit(dir, url, 'migrate');
    const applied = await pool.query('SELECT hash FROM drizzle.__drizzle_migrations');
    assert.equal(applied.rowCount, 1);
    // push introspects the migrated database and finds it equal to the schema.
    pushFindsNoChanges(dir, url);

    let schema = loadSchema(dir);
    let { users, posts, comments } = schema;
    let db = drizzle({ client: pool, schema });

    // Inserts returning what the database filled in: identity, defaults, uuid, timestamptz.
    const inserted = await db.insert(users).values([
      { name: 'Ann', email: 'ann@x', role: 'admin' },
      { name: 'Bob', email: 'bob@x', role: 'author', nickname: 'bobby' },
      { name: 'Cy', email: 'cy@x', active: false },
    ]).returning();
    const [ann, bob, cy] = inserted;
    assert.deepEqual(inserted.map((u) => [u.name, u.role, u.active]),
      [['Ann', 'admin', true], ['Bob', 'author', true], ['Cy', 'reader', false]]);
    assert.ok(ann.id > 0 && bob.id > ann.id && cy.id > bob.id);
    assert.ok(ann.createdAt instanceof Date && Math.abs(ann.createdAt - Date.now()) < 60_000);
    const [first] = await db.insert(posts)
      .values({ authorId: ann.id, title: 'Drizzle intro', meta: { kind: 'note', tags: ['orm', 'sql'], stats: { likes: 3 } } })
      .returning({ id: posts.id, publicId: posts.publicId, views: posts.views, meta: posts.meta });
    assert.match(first.publicId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(first.views, 0);
    assert.deepEqual(first.meta, { kind: 'note', tags: ['orm', 'sql'], stats: { likes: 3 } });
    const more = await db.insert(posts).values([
      { authorId: ann.id, title: 'Second', views: 5, meta: { kind: 'link' } },
      { authorId: bob.id, title: 'Bob writes', views: 7 },
      { authorId: bob.id, title: 'Drizzle again', views: 1 },
    ]).returning({ id: posts.id });
    assert.equal(more.length, 3);
    await db.insert(comments).values([
      { postId: first.id, body: 'nice' },
      { postId: first.id, body: 'agreed' },
      { postId: more[2].id, body: 'hm' },
    ]);

    // Constraints the migration created: enum, unique pair, check.
    await assert.rejects(db.insert(users).values({ name: 'X', email: 'x@x', role: 'owner' }), sqlstate('22P02'));
    await assert.rejects(db.insert(posts).values({ authorId: ann.id, title: 'Second' }), sqlstate('23505'));
    await assert.rejects(db.update(posts).set({ views: -1 }).where(eq(posts.id, first.id)), sqlstate('23514'));

    // Filters.
    const filtered = await db.select({ title: posts.title }).from(posts)
      .where(or(and(eq(posts.authorId, bob.id), like(posts.title, 'Drizzle%')), inArray(posts.views, [5, 42])))
      .orderBy(posts.id);
    assert.deepEqual(filtered.map((p) => p.title), ['Second', 'Drizzle again']);

    // Joins: inner, and left with a group-by count.
    const joined = await db.select({ author: users.name, title: posts.title }).from(posts)
      .innerJoin(users, eq(users.id, posts.authorId))
      .where(eq(users.role, 'author'))
      .orderBy(posts.title);
    assert.deepEqual(joined, [{ author: 'Bob', title: 'Bob writes' }, { author: 'Bob', title: 'Drizzle again' }]);
    const perUser = await db.select({ name: users.name, posts: count(posts.id) }).from(users)
      .leftJoin(posts, eq(posts.authorId, users.id))
      .groupBy(users.id, users.name)
      .orderBy(users.id);
    assert.deepEqual(perUser, [{ name: 'Ann', posts: 2 }, { name: 'Bob', posts: 2 }, { name: 'Cy', posts: 0 }]);

    // Aggregates.
    const [totals] = await db.select({
      n: count(),
      views: sql`sum(${posts.views})`.mapWith(Number),
      top: sql`max(${posts.views})`.mapWith(Number),
    }).from(posts);
    assert.deepEqual(totals, { n: 4, views: 13, top: 7 });
    assert.equal(await db.$count(posts, eq(posts.authorId, bob.id)), 2);

    // Relational queries: nested with, column selection, filters and ordering inside.
    const tree = await db.query.users.findMany({
      columns: { name: true },
      where: (u, { eq: is }) => is(u.active, true),
      orderBy: (u, { asc }) => [asc(u.id)],
      with: {
        posts: {
          columns: { title: true },
          orderBy: (p, { asc }) => [asc(p.id)],
          with: { comments: { columns: { body: true }, orderBy: (c, { asc }) => [asc(c.id)] } },
        },
      },
    });
    assert.deepEqual(tree, [
      { name: 'Ann', posts: [{ title: 'Drizzle intro', comments: [{ body: 'nice' }, { body: 'agreed' }] }, { title: 'Second', comments: [] }] },
      { name: 'Bob', posts: [{ title: 'Bob writes', comments: [] }, { title: 'Drizzle again', comments: [{ body: 'hm' }] }] },
    ]);
    const post = await db.query.posts.findFirst({
      where: (p, { eq: is }) => is(p.publicId, first.publicId),
      with: { author: { columns: { email: true } } },
    });
    assert.equal(post.title, 'Drizzle intro');
    assert.deepEqual(post.author, { email: 'ann@x' });

    // jsonb: read back whole, filtered on with operators, a field extracted.
    const notes = await db.select({ title: posts.title, meta: posts.meta }).from(posts)
      .where(sql`${posts.meta} @> ${JSON.stringify({ tags: ['orm'] })}::jsonb`);
    assert.deepEqual(notes, [{ title: 'Drizzle intro', meta: { kind: 'note', tags: ['orm', 'sql'], stats: { likes: 3 } } }]);
    const kinds = await db.select({ kind: sql`${posts.meta}->>'kind'`, likes: sql`(${posts.meta}#>>'{stats,likes}')::int` })
      .from(posts).where(sql`${posts.meta} ? 'kind'`).orderBy(posts.id);
    assert.deepEqual(kinds, [{ kind: 'note', likes: 3 }, { kind: 'link', likes: null }]);
    const [empty] = await db.select({ meta: posts.meta }).from(posts).where(eq(posts.title, 'Bob writes'));
    assert.deepEqual(empty.meta, {});

    // Update and delete returning.
    const bumped = await db.update(posts).set({ views: sql`${posts.views} + 10` })
      .where(eq(posts.authorId, ann.id)).returning({ title: posts.title, views: posts.views });
    assert.deepEqual(bumped.sort((a, b) => a.views - b.views), [{ title: 'Drizzle intro', views: 10 }, { title: 'Second', views: 15 }]);
    const gone = await db.delete(comments).where(eq(comments.body, 'hm')).returning();
    assert.equal(gone.length, 1);
    assert.equal(gone[0].postId, more[2].id);

    // Upserts on the unique email: updated, and left alone.
    const [upserted] = await db.insert(users).values({ name: 'Ann B', email: 'ann@x' })
      .onConflictDoUpdate({ target: users.email, set: { name: sql`excluded.name`, active: false } })
      .returning({ id: users.id, name: users.name, active: users.active, role: users.role });
    assert.deepEqual(upserted, { id: ann.id, name: 'Ann B', active: false, role: 'admin' });
    const skipped = await db.insert(users).values({ name: 'Bob 2', email: 'bob@x' }).onConflictDoNothing().returning();
    assert.deepEqual(skipped, []);
    assert.equal(await db.$count(users), 3);

    // Transactions: committed; rolled back by tx.rollback(); failing on a constraint; and a
    // nested one (a savepoint) rolled back inside one that commits.
    await db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'Dee', email: 'dee@x' });
      await tx.update(users).set({ role: 'author' }).where(eq(users.email, 'cy@x'));
    });
    await assert.rejects(db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'Eve', email: 'eve@x' });
      tx.rollback();
    }), TransactionRollbackError);
    await assert.rejects(db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'Fay', email: 'fay@x' });
      await tx.insert(users).values({ name: 'Dup', email: 'dee@x' });
    }), sqlstate('23505'));
    await db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'Gus', email: 'gus@x' });
      await assert.rejects(tx.transaction(async (inner) => {
        await inner.insert(users).values({ name: 'Hal', email: 'hal@x' });
        inner.rollback();
      }), TransactionRollbackError);
      await tx.transaction(async (inner) => {
        await inner.insert(users).values({ name: 'Ivy', email: 'ivy@x' });
      });
    });
    const names = await db.select({ name: users.name, role: users.role }).from(users).orderBy(users.id);
    assert.deepEqual(names, [
      { name: 'Ann B', role: 'admin' }, { name: 'Bob', role: 'author' }, { name: 'Cy', role: 'author' },
      { name: 'Dee', role: 'reader' }, { name: 'Gus', role: 'reader' }, { name: 'Ivy', role: 'reader' },
    ]);

    // The foreign key cascades: Bob's posts and their comments go with him.
    await db.delete(users).where(eq(users.id, bob.id));
    assert.equal(await db.$count(posts, eq(posts.authorId, bob.id)), 0);
    assert.equal(await db.$count(comments), 2);

    // A release later: the schema edited (a column dropped, one added, an index added),
    // its migration generated from the snapshot of the last one and applied.
    fs.copyFileSync(path.join(__dirname, 'drizzle', 'schema.next.js'), path.join(dir, 'src', 'schema.js'));
    drizzleKit(dir, url, 'generate', '--name', 'next');
    const next = fs.readFileSync(path.join(dir, 'migrations', '0001_next.sql'), 'utf8');
    assert.match(next, /DROP COLUMN "nickname"/);
    assert.match(next, /ADD COLUMN "pinned"/);
    drizzleKit(dir, url, 'migrate');
    assert.equal((await pool.query('SELECT hash FROM drizzle.__drizzle_migrations')).rowCount, 2);
    pushFindsNoChanges(dir, url);
    const columns = await db.execute(sql`SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name IN ('nickname', 'pinned')`);
    assert.deepEqual(columns.rows, [{ table_name: 'posts', column_name: 'pinned' }]);
    const indexes = await db.execute(sql`SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY indexname`);
    assert.ok(indexes.rows.some((r) => r.indexname === 'users_created_at_idx'), JSON.stringify(indexes.rows));

    schema = loadSchema(dir);
    ({ users, posts } = schema);
    db = drizzle({ client: pool, schema });
    const [pin] = await db.insert(posts).values({ authorId: ann.id, title: 'Pinned', pinned: true }).returning({ pinned: posts.pinned });
    assert.equal(pin.pinned, true);
    const annsPosts = await db.query.posts.findMany({
      columns: { title: true, pinned: true },
      where: (p, { eq: is }) => is(p.authorId, ann.id),
      orderBy: (p) => [desc(p.pinned), p.title],
    });
    assert.deepEqual(annsPosts, [
      { title: 'Pinned', pinned: true }, { title: 'Drizzle intro', pinned: false }, { title: 'Second', pinned: false },
    ]);
    const recent = await db.select({ name: users.name }).from(users).orderBy(desc(users.createdAt), desc(users.id)).limit(1);
    assert.deepEqual(recent, [{ name: 'Ivy' }]);
  } finally {
    await pool.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log('drizzle ok');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
