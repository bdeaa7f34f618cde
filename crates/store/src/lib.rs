#![doc = include_str!("../README.md")]

pub mod keystore;
pub mod session_store;
