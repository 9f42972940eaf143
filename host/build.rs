//! Records where libtorch lives in the binary (an rpath), so `nasbox` runs
//! without LD_LIBRARY_PATH, and compiles the one libtorch call tch does not
//! expose (the autocast precision). torch-sys reports the library
//! directory through its `links` metadata; the headers sit beside it.

use std::path::PathBuf;

fn main() {
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
