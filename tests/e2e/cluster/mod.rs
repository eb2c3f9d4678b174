//! Databases over several partitions and worker processes: placement and scatter reads,
//! cross-partition commits, replicas and failover, crashes, export and import.

pub(crate) mod cross_partition;
mod durability;
mod partitions;
mod portable;
mod workers;
