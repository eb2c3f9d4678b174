// Sequelize 6 against a server on 127.0.0.1:<port>, as a project uses it: models with
// associations made by sync(), a model changed and sync({ alter: true }) again,
// queryInterface's addColumn / changeColumn / removeColumn / addConstraint, queries with
// include, upsert, JSONB queries, managed and unmanaged transactions. Prints
// "sequelize ok" at its end; exits non-zero on the first failure.
//
//   node tests/frameworks/node/sequelize.js <port>
'use strict';
const assert = require('assert/strict');
const { Client } = require('pg');
const { DataTypes, Op, Sequelize } = require('sequelize');

function models(sequelize, version) {
  const User = sequelize.define('User', {
    name: { type: DataTypes.STRING(version === 1 ? 50 : 120), allowNull: false },
    email: { type: DataTypes.STRING, unique: true },
    ...(version === 2 ? { karma: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 } } : {}),
  });
  const Post = sequelize.define('Post', {
    title: { type: DataTypes.STRING, allowNull: false },
    meta: { type: DataTypes.JSONB, defaultValue: {} },
    publishedAt: DataTypes.DATE,
  });
  User.hasMany(Post, { as: 'posts', foreignKey: 'userId', onDelete: 'CASCADE' });
  Post.belongsTo(User, { as: 'author', foreignKey: 'userId' });
  return { User, Post };
}

async function main() {
  const port = Number(process.argv[2]);
  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS sequelize');
  await admin.query('CREATE DATABASE sequelize');
  await admin.end();
  const connect = () =>
    new Sequelize('sequelize', 'postgres', '', {
      host: '127.0.0.1', port, dialect: 'postgres', logging: false,
    });

  let sequelize = connect();
  let { User, Post } = models(sequelize, 1);
  await sequelize.sync();
  const ann = await User.create({ name: 'Ann', email: 'ann@x' });
  await sequelize.close();

  // A release later: a column added, one widened, then synced with alter.
  sequelize = connect();
  ({ User, Post } = models(sequelize, 2));
  await sequelize.sync({ alter: true });
  const qi = sequelize.getQueryInterface();
  const users = await qi.describeTable('Users');
  assert.equal(users.karma.type, 'INTEGER');
  assert.equal(users.name.type, 'CHARACTER VARYING(120)');
  assert.equal((await User.findByPk(ann.id)).karma, 0);

  await qi.addColumn('Posts', 'views', { type: DataTypes.INTEGER, allowNull: true });
  await qi.changeColumn('Posts', 'views', { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 });
  await qi.addConstraint('Posts', { fields: ['views'], type: 'check', where: { views: { [Op.gte]: 0 } }, name: 'posts_views_check' });
  await qi.removeColumn('Posts', 'views');
  assert.equal((await qi.describeTable('Posts')).views, undefined);

  await Post.bulkCreate([
    { title: 'first', userId: ann.id, meta: { kind: 'note', tags: ['a'] } },
    { title: 'second', userId: ann.id, meta: { kind: 'link' } },
  ]);
  const withPosts = await User.findOne({ where: { email: 'ann@x' }, include: [{ model: Post, as: 'posts' }] });
  assert.deepEqual(withPosts.posts.map((p) => p.title).sort(), ['first', 'second']);
  const authored = await Post.findAll({ include: [{ model: User, as: 'author', where: { name: 'Ann' } }], order: [['id', 'ASC']] });
  assert.deepEqual(authored.map((p) => p.author.name), ['Ann', 'Ann']);
  const notes = await Post.findAll({ where: { meta: { kind: 'note' } } });
  assert.deepEqual(notes.map((p) => p.title), ['first']);
  const tagged = await Post.findAll({ where: { meta: { [Op.contains]: { tags: ['a'] } } } });
  assert.deepEqual(tagged.map((p) => p.title), ['first']);

  const [upserted] = await User.upsert({ name: 'Ann B', email: 'ann@x' });
  assert.equal(upserted.name, 'Ann B');
  assert.equal(await User.count(), 1);

  await sequelize.transaction(async (t) => {
    await User.create({ name: 'Bob', email: 'bob@x' }, { transaction: t });
  });
  await assert.rejects(
    sequelize.transaction(async (t) => {
      await User.create({ name: 'Cy', email: 'cy@x' }, { transaction: t });
      await User.create({ name: 'Dup', email: 'bob@x' }, { transaction: t });
    }),
    (e) => e.name === 'SequelizeUniqueConstraintError',
  );
  const t = await sequelize.transaction();
  await User.update({ karma: 5 }, { where: { email: 'bob@x' }, transaction: t });
  await t.rollback();
  assert.equal((await User.findOne({ where: { email: 'bob@x' } })).karma, 0);
  assert.deepEqual((await User.findAll({ order: [['id', 'ASC']] })).map((u) => u.name), ['Ann B', 'Bob']);
  await sequelize.close();
  console.log('sequelize ok');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
