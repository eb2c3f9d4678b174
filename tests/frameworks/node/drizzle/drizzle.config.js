// drizzle-kit's configuration in the drizzle program's project: the schema it reads, the
// folder it writes migrations to, and the database from the environment, as usual.
'use strict';
const { defineConfig } = require('drizzle-kit');

module.exports = defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.js',
  out: './migrations',
  dbCredentials: { url: process.env.DATABASE_URL },
  strict: false,
  verbose: true,
});
