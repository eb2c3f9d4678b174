//! What objects carry besides their definition: COMMENT ON's comments (comments.rs) and
//! GRANT's privileges (grants.rs), written into the objects' CREATE texts, or for schemas
//! and types into a registry. Comments and privileges know nothing of each other.

pub(super) mod comments;
pub(super) mod grants;
