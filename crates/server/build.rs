//! `sqlx::migrate!` embeds crates/server/migrations at compile time; cargo does not know that, so
//! a new or changed migration must rebuild the crate.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
