//! What organizers, officers and admins do: edit and import campaigns and locals, keep
//! member counts, moderate and invalidate, review paper collisions, export and sync, and
//! read their dashboards and the public names.

pub mod collisions;
pub mod dashboards;
pub mod editing;
pub mod exporting;
pub mod import;
pub mod invalidating;
pub mod membership;
pub mod moderation;
pub mod names;
pub mod syncing;
