#![doc = include_str!("../README.md")]

pub mod connect;
pub mod delegation;
pub mod deploy;
pub mod service;
pub mod session_reads;
pub mod signers;
pub mod submission;
pub mod transport;
