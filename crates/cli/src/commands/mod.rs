pub(crate) mod auth;
pub(crate) mod delegate;
pub(crate) mod demo;
pub(crate) mod deploy;
pub(crate) mod send;
pub(crate) mod serve;
pub(crate) mod serve_keys;
pub(crate) mod session;
