// The schema of the drizzle program's project (drizzle-orm 0.45 pg-core), as a JavaScript
// project writes it: drizzle-kit reads it to generate and push migrations, the app imports
// it for the query builder and the relational queries. schema.next.js is this file after
// a release's edits (applied with drizzle-kit push).
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
  nickname: text('nickname'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

const posts = pgTable('posts', {
  id: serial('id').primaryKey(),
  publicId: uuid('public_id').notNull().defaultRandom(),
  authorId: integer('author_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  title: varchar('title', { length: 200 }).notNull(),
  body: text('body'),
  views: integer('views').notNull().default(0),
  meta: jsonb('meta').notNull().default({}),
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
