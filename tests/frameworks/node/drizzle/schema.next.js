// schema.js after a release's edits, applied with drizzle-kit push: users.nickname
// dropped, posts.pinned added, an index on users.created_at added. (Added and dropped
// columns sit in different tables: in one table drizzle-kit would ask, interactively,
// whether the column was renamed.)
'use strict';
const { relations, sql } = require('drizzle-orm');
const {
  boolean, check, index, integer, jsonb, pgEnum, pgTable, serial, text, timestamp, unique, uuid, varchar,
} = require('drizzle-orm/pg-core');

const role = pgEnum('role', ['reader', 'author', 'admin']);

const users = pgTable('users', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: varchar('name', { length: 100 }).notNull(),
  email: varchar('email', { length: 255 }).notNull().unique(),
  role: role('role').notNull().default('reader'),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  index('users_created_at_idx').on(t.createdAt),
]);

const posts = pgTable('posts', {
  id: serial('id').primaryKey(),
  publicId: uuid('public_id').notNull().defaultRandom(),
  authorId: integer('author_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  title: varchar('title', { length: 200 }).notNull(),
  body: text('body'),
  views: integer('views').notNull().default(0),
  meta: jsonb('meta').notNull().default({}),
  pinned: boolean('pinned').notNull().default(false),
}, (t) => [
  index('posts_author_idx').on(t.authorId),
  unique('posts_author_title_key').on(t.authorId, t.title),
  check('posts_views_check', sql`${t.views} >= 0`),
]);

const comments = pgTable('comments', {
  id: serial('id').primaryKey(),
  postId: integer('post_id').notNull().references(() => posts.id, { onDelete: 'cascade' }),
  body: text('body').notNull(),
});

const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }));
const postsRelations = relations(posts, ({ one, many }) => ({
  author: one(users, { fields: [posts.authorId], references: [users.id] }),
  comments: many(comments),
}));
const commentsRelations = relations(comments, ({ one }) => ({
  post: one(posts, { fields: [comments.postId], references: [posts.id] }),
}));

module.exports = { role, users, posts, comments, usersRelations, postsRelations, commentsRelations };
