//! Records where libtorch lives in the binary (an rpath), so `nasbox` runs
//! without LD_LIBRARY_PATH. torch-sys reports the directory through its
//! `links` metadata.

fn main() {
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
}
