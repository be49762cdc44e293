//! Test support shared by the sink tests.

pub mod receivers;
