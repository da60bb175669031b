//! Rebuild when a migration is added or changed: `sqlx::migrate!` embeds the directory at
//! compile time, and cargo would otherwise not notice new files there.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
