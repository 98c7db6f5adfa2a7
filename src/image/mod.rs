//! Images: references, registries, credentials, the store, layer unpacking and pulls.
pub mod auth;
pub mod local;
pub mod pull;
pub mod reference;
pub mod registry;
pub mod store;
pub mod tarsplit;
pub mod unpack;
