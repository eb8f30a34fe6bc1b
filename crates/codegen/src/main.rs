//! `cargo run -p berth-codegen`: rewrites `crates/types/src/generated/*.rs` from the models.

use berth_codegen::{TARGETS, generate_target, types_crate_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = types_crate_dir();
    for t in TARGETS {
        let code = generate_target(t)?;
        std::fs::write(dir.join(t.output), code)?;
        println!("wrote {}", t.output);
    }
    Ok(())
}
