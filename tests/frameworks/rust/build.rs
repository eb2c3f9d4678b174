// embed_migrations! reads migrations/ at compile time; Cargo would not otherwise rebuild the
// diesel binary when a migration changes (as diesel_migrations' documentation advises).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
