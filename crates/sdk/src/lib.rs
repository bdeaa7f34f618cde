#![doc = include_str!("../README.md")]

pub mod delegation;
pub mod deploy;
pub mod session_reads;
pub mod submission;
pub mod transport;
