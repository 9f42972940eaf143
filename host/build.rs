//! Records where libtorch lives in the binary (an rpath), so `nasbox` runs
//! without LD_LIBRARY_PATH, and compiles the one libtorch call tch does not
//! expose (the autocast precision). torch-sys reports the library
//! directory through its `links` metadata; the headers sit beside it.

use std::path::{Path, PathBuf};

include!("src/strategy/builtin_list.rs");

fn main() {
    embed_strategies();
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-changed=src/train/autocast.cpp");
    let lib = PathBuf::from(std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys reports DEP_TCH_LIBTORCH_LIB"));
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    let include = lib.parent().expect("libtorch's lib directory has a parent").join("include");
    cc::Build::new()
        .cpp(true)
        .file("src/train/autocast.cpp")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .warnings(false)
        .compile("nasbox_autocast");
}

/// Writes `embedded_strategies.rs`: every built-in strategy component that
/// is built (in `NASBOX_EMBED_STRATEGIES`, else the workspace's
/// `wasm32-wasip2/release` folder beside this build's profile folder),
/// included as bytes. A strategy not built yet is not embedded; the binary
/// then finds it in the build folder or says where it looked.
fn embed_strategies() {
    println!("cargo:rerun-if-env-changed=NASBOX_EMBED_STRATEGIES");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dir = match std::env::var_os("NASBOX_EMBED_STRATEGIES") {
        Some(d) => PathBuf::from(d),
        // OUT_DIR is <target>/<profile>/build/nasbox-<hash>/out.
        None => out.ancestors().nth(4).map(|target| target.join("wasm32-wasip2/release")).unwrap_or_default(),
    };
    let mut code = String::from("/// Built-in components embedded at build time: name and bytes.\npub static EMBEDDED: &[(&str, &[u8])] = &[\n");
    for (name, _) in BUILTINS {
        let file = dir.join(format!("{name}.wasm"));
        // Watched whether or not it exists: building it later re-embeds.
        println!("cargo:rerun-if-changed={}", file.display());
        if Path::new(&file).is_file() {
            let file = file.canonicalize().expect("a built component's path resolves");
            code.push_str(&format!("    ({name:?}, include_bytes!({:?})),\n", file.display().to_string()));
        }
    }
    code.push_str("];\n");
    std::fs::write(out.join("embedded_strategies.rs"), code).expect("writing embedded_strategies.rs");
}
