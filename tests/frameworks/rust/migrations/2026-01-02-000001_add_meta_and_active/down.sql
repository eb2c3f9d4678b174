DROP INDEX posts_user_id_title_key;
ALTER TABLE posts DROP COLUMN meta;
ALTER TABLE users DROP COLUMN active;
