//! The migrations, as `sea-orm-cli migrate init` / `generate` lay them out (a file each, named
//! by the migration, which DeriveMigrationName takes for its name).

use sea_orm_migration::prelude::*;

mod m20260101_000001_create_tables;
mod m20260102_000001_alter_posts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_tables::Migration),
            Box::new(m20260102_000001_alter_posts::Migration),
        ]
    }
}
