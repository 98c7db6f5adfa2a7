//! Images: references, registries, credentials, the store, layer unpacking, pulls and pushes.
pub mod archive;
pub mod auth;
pub mod blobinfo;
pub mod changes;
pub mod layers;
pub mod local;
pub mod pull;
pub mod push;
pub mod reference;
pub mod registry;
pub mod store;
pub mod tarsplit;
pub mod unpack;
pub mod upload;
