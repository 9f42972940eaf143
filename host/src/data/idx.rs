//! MNIST and Fashion-MNIST in the IDX format (<http://yann.lecun.com/exdb/mnist/>),
//! gzipped or not: a big-endian header (magic: two zero bytes, the element
//! type 0x08 for unsigned bytes, the number of dimensions) then the sizes
//! and the data.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{DataError, Dataset, Images};

/// Loads `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (each optionally
/// `.gz`) from `dir`.
pub fn load(dir: &Path, name: &str, classes: Vec<String>) -> Result<Dataset, DataError> {
    let train = pair(dir, "train", classes.len())?;
    let test = pair(dir, "t10k", classes.len())?;
    Ok(Dataset { name: name.into(), classes, train, test, flip_ok: false })
}

fn pair(dir: &Path, prefix: &str, classes: usize) -> Result<Images, DataError> {
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let (dims, pixels) = read(&images_path, 3)?;
    if dims[0] == 0 {
        return Err(DataError::malformed(&images_path, "holds no images"));
    }
    if dims[1] == 0 || dims[2] == 0 {
        return Err(DataError::malformed(&images_path, format!("images of {}x{} pixels", dims[1], dims[2])));
    }
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let (ldims, labels) = read(&labels_path, 1)?;
    if dims[0] != ldims[0] {
        return Err(DataError::malformed(&labels_path, format!("{} labels for {} images in {}", ldims[0], dims[0], images_path.display())));
    }
    if let Some((i, l)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= classes) {
        return Err(DataError::malformed(&labels_path, format!("label {l} at index {i}, but there are {classes} classes")));
    }
    Ok(Images { channels: 1, height: dims[1], width: dims[2], pixels, labels: labels.into_iter().map(u32::from).collect() })
}

fn find(dir: &Path, stem: &str) -> Result<PathBuf, DataError> {
    // Also accept the dotted names some mirrors use (train-images.idx3-ubyte).
    let dotted = stem.replacen("-idx", ".idx", 1);
    for name in [stem.to_string(), format!("{stem}.gz"), dotted.clone(), format!("{dotted}.gz")] {
        let p = dir.join(&name);
        if p.exists() {
            return Ok(p);
        }
    }
    Err(DataError::Missing { path: dir.join(stem), hint: " (nor .gz)".into() })
}

/// Reads an IDX file of unsigned bytes with `rank` dimensions.
fn read(path: &Path, rank: usize) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let data = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| DataError::malformed(path, format!("bad gzip stream: {e}")))?;
        out
    } else {
        raw
    };
    if data.len() < 4 {
        return Err(DataError::truncated(path, format!("{} bytes, shorter than the 4-byte magic", data.len())));
    }
    if data[0] != 0 || data[1] != 0 {
        return Err(DataError::malformed(path, "not an IDX file (magic must start with two zero bytes)"));
    }
    if data[2] != 0x08 {
        return Err(DataError::malformed(path, format!("element type 0x{:02x}, expected 0x08 (unsigned byte)", data[2])));
    }
    if data[3] as usize != rank {
        return Err(DataError::malformed(path, format!("{} dimensions, expected {rank}", data[3])));
    }
    let header = 4 + 4 * rank;
    if data.len() < header {
        return Err(DataError::truncated(path, "the header ends early"));
    }
    let dims: Vec<usize> = (0..rank).map(|i| u32::from_be_bytes(data[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize).collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| DataError::malformed(path, format!("dimensions {dims:?} are too large to be a dataset")))?;
    let body = &data[header..];
    if body.len() < expected {
        return Err(DataError::truncated(path, format!("{} data bytes, the header promises {expected}", body.len())));
    }
    if body.len() > expected {
        return Err(DataError::malformed(path, format!("{} bytes after the data the header promises", body.len() - expected)));
    }
    Ok((dims, body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(super) fn idx(dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            out.extend(d.to_be_bytes());
        }
        out.extend_from_slice(body);
        out
    }

    pub(super) fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn write(dir: &Path, compress: bool) {
        let put = |name: &str, bytes: Vec<u8>| {
            let (name, bytes) = if compress { (format!("{name}.gz"), gz(&bytes)) } else { (name.to_string(), bytes) };
            std::fs::write(dir.join(name), bytes).unwrap();
        };
        put("train-images-idx3-ubyte", idx(&[3, 2, 2], &(0..12).collect::<Vec<u8>>()));
        put("train-labels-idx1-ubyte", idx(&[3], &[7, 0, 9]));
        put("t10k-images-idx3-ubyte", idx(&[1, 2, 2], &[1, 2, 3, 4]));
        put("t10k-labels-idx1-ubyte", idx(&[1], &[5]));
    }

    #[test]
    fn reads_plain_and_gzipped_idx() {
        for compress in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), compress);
            let d = load(dir.path(), "mnist", (0..10).map(|c| c.to_string()).collect()).unwrap();
            assert_eq!((d.train.channels, d.train.height, d.train.width), (1, 2, 2));
            assert_eq!(d.train.labels, vec![7, 0, 9]);
            assert_eq!(d.train.image(2), &[8, 9, 10, 11]);
            assert_eq!(d.test.labels, vec![5]);
            assert!(!d.flip_ok);
        }
    }

    #[test]
    fn bad_files_say_which_and_why() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), false);
        let classes = || (0..10).map(|c| c.to_string()).collect::<Vec<_>>();
        let p = dir.path().join("train-images-idx3-ubyte");
        std::fs::write(&p, idx(&[3, 2, 2], &[0; 11])).unwrap();
        let e = load(dir.path(), "mnist", classes()).unwrap_err().to_string();
        assert!(e.contains("train-images-idx3-ubyte") && e.contains("truncated") && e.contains("promises 12"), "{e}");

        std::fs::write(&p, b"PK\x03\x04zip").unwrap();
        assert!(load(dir.path(), "mnist", classes()).unwrap_err().to_string().contains("not an IDX file"));

        write(dir.path(), false);
        std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), idx(&[2], &[1, 2])).unwrap();
        let e = load(dir.path(), "mnist", classes()).unwrap_err().to_string();
        assert!(e.contains("2 labels for 1 images"), "{e}");

        std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte")).unwrap();
        let e = load(dir.path(), "mnist", classes()).unwrap_err().to_string();
        assert!(e.contains("t10k-labels-idx1-ubyte") && e.contains("not found"), "{e}");

        std::fs::write(dir.path().join("t10k-labels-idx1-ubyte.gz"), b"\x1f\x8bgarbage").unwrap();
        assert!(load(dir.path(), "mnist", classes()).unwrap_err().to_string().contains("bad gzip"));
    }
}

/// Bad IDX files, fuzzed (issue 13).
#[cfg(test)]
mod fuzz {
    use super::tests::{gz, idx};
    use super::*;
    use crate::data::usable;
    use crate::fuzz::{apply, config, edits};
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    /// Cases per run (docs/src/reference/bad-input.md).
    pub const MUTATED: u32 = 256;
    pub const BAD_HEADERS: u32 = 256;

    const FILES: [&str; 4] = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// The four files of a small valid dataset: 6 training and 2 test
    /// images of 4×3 pixels.
    fn valid() -> [Vec<u8>; 4] {
        [idx(&[6, 4, 3], &(0..72).collect::<Vec<u8>>()), idx(&[6], &[0, 1, 2, 3, 4, 5]), idx(&[2, 4, 3], &[9; 24]), idx(&[2], &[7, 8])]
    }

    fn classes() -> Vec<String> {
        (0..10).map(|c| c.to_string()).collect()
    }

    /// Writes the files (file `bad` replaced by `bytes`, gzipped or not),
    /// loads them: a dataset the trainer can use, or an error naming that
    /// file.
    fn loads_or_names(bad: usize, bytes: Vec<u8>, compress: bool) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().unwrap();
        for (i, body) in valid().into_iter().enumerate() {
            let body = if i == bad { bytes.clone() } else { body };
            let name = if i == bad && compress { format!("{}.gz", FILES[i]) } else { FILES[i].to_string() };
            std::fs::write(dir.path().join(name), if i == bad && compress { gz(&body) } else { body }).unwrap();
        }
        match load(dir.path(), "mnist", classes()) {
            Ok(d) => usable(&d, false)?,
            Err(e) => prop_assert!(e.to_string().contains(FILES[bad]), "{} is not named: {}", FILES[bad], e),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config(MUTATED))]
        #[test]
        fn mutated_files_load_or_are_named(bad in 0usize..4, compress in any::<bool>(), edits in edits()) {
            loads_or_names(bad, apply(valid()[bad].clone(), &edits), compress)?;
        }
    }

    /// A header drawn from values right and wrong (magic, element type,
    /// rank, sizes zero, one, or huge), then about as many data bytes as
    /// it promises.
    fn assembled() -> impl Strategy<Value = (usize, Vec<u8>)> {
        let dim = prop::sample::select(vec![0u32, 1, 2, 3, 4, 6, 255, 0x8000_0000, u32::MAX]);
        (
            0usize..4,
            prop::sample::select(vec![[0u8, 0], [0, 1], [8, 0]]),
            prop::sample::select(vec![8u8, 9, 0x0d]),
            0u8..5,
            prop::collection::vec(dim, 0..5),
            -2i64..3,
        )
            .prop_map(|(bad, magic, kind, rank, dims, slack)| {
                let mut out = vec![magic[0], magic[1], kind, rank];
                for d in &dims {
                    out.extend(d.to_be_bytes());
                }
                let promised = dims.iter().map(|&d| d as u128).product::<u128>().min(4096) as i64;
                out.extend(std::iter::repeat_n(1u8, (promised + slack).max(0) as usize));
                (bad, out)
            })
    }

    proptest! {
        #![proptest_config(config(BAD_HEADERS))]
        #[test]
        fn bad_headers_load_or_are_named((bad, bytes) in assembled(), compress in any::<bool>()) {
            loads_or_names(bad, bytes, compress)?;
        }
    }

    #[test]
    fn images_without_pixels_are_refused() {
        // Regression: 0×0 images loaded, and `nasbox data show` then
        // panicked computing their statistics.
        let dir = tempfile::tempdir().unwrap();
        let [_, train_labels, test_images, test_labels] = valid();
        std::fs::write(dir.path().join(FILES[0]), idx(&[6, 0, 0], &[])).unwrap();
        for (i, body) in [(1, train_labels), (2, test_images), (3, test_labels)] {
            std::fs::write(dir.path().join(FILES[i]), body).unwrap();
        }
        let e = load(dir.path(), "mnist", classes()).unwrap_err().to_string();
        assert!(e.contains("train-images-idx3-ubyte: malformed: images of 0x0 pixels"), "{e}");
        std::fs::write(dir.path().join(FILES[0]), idx(&[0, 4, 3], &[])).unwrap();
        let e = load(dir.path(), "mnist", classes()).unwrap_err().to_string();
        assert!(e.contains("train-images-idx3-ubyte: malformed: holds no images"), "{e}");
    }

    #[test]
    fn sizes_whose_product_overflows_are_refused() {
        // Regression: the product of the sizes overflowed (2^31 · 2^31 · 4
        // wrapped to 0 bytes expected).
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILES[0]);
        std::fs::write(&p, idx(&[0x8000_0000, 0x8000_0000, 4], &[])).unwrap();
        let e = read(&p, 3).unwrap_err().to_string();
        assert!(e.contains("train-images-idx3-ubyte: malformed: dimensions [2147483648, 2147483648, 4] are too large"), "{e}");
    }
}
