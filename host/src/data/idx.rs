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
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let (ldims, labels) = read(&labels_path, 1)?;
    if dims[0] != ldims[0] {
        return Err(DataError::malformed(
            &labels_path,
            format!("{} labels for {} images in {}", ldims[0], dims[0], images_path.display()),
        ));
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
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::malformed(path, format!("bad gzip stream: {e}")))?;
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
    let dims: Vec<usize> =
        (0..rank).map(|i| u32::from_be_bytes(data[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize).collect();
    let expected: usize = dims.iter().product();
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

    fn idx(dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            out.extend(d.to_be_bytes());
        }
        out.extend_from_slice(body);
        out
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
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
