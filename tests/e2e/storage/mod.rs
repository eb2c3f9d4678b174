//! Replicated storage (`[storage] engine = "jetstream"`) tested as a distributed system:
//! hosts made of network namespaces (tests/storage/hosts.sh), three NATS JetStream nodes,
//! two compute hosts running litescale, one host with the load; faults are real (SIGKILL,
//! SIGSTOP, a link taken down). Needs root, iproute2 and `nats-server` (scripts/test
//! installs it).
//! Order inside: `hosts` <- `engine` <- `failures`, `single_node`.

mod engine;
mod failures;
mod hosts;
mod single_node;
