//! A folder of images per class, PNG or JPEG: `DIR/<class>/*.png`, or
//! `DIR/train/<class>/…` and `DIR/test/<class>/…` when the split is given.
//! Images are converted to RGB and resized to a square of `size` pixels, so
//! photos of any size can be used.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use super::{DataError, Dataset, Images, SplitMix};

/// How to read a folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Side of the square images produced.
    pub size: u32,
    /// Fraction held out as the test set when there is no `test/` folder.
    pub test_fraction: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { size: 32, test_fraction: 0.2 }
    }
}

pub fn load(dir: &Path, opts: &Options) -> Result<Dataset, DataError> {
    let name = dir.file_name().map_or("folder".into(), |n| n.to_string_lossy().into_owned());
    if dir.join("train").is_dir() {
        let classes = class_dirs(&dir.join("train"))?;
        let train = read_split(&dir.join("train"), &classes, opts.size)?;
        let test = if dir.join("test").is_dir() {
            read_split(&dir.join("test"), &classes, opts.size)?
        } else {
            Images::empty(3, opts.size as usize, opts.size as usize)
        };
        return Ok(Dataset { name, classes, train, test, flip_ok: true });
    }
    let classes = class_dirs(dir)?;
    let all = read_split(dir, &classes, opts.size)?;
    // Hold out a stratified test set, the same every time.
    let mut rng = SplitMix(0x7e57);
    let (mut train, mut test) = (vec![], vec![]);
    for c in 0..classes.len() as u32 {
        let mut members: Vec<usize> = (0..all.len()).filter(|&i| all.labels[i] == c).collect();
        rng.shuffle(&mut members);
        let k = (members.len() as f64 * opts.test_fraction).round() as usize;
        test.extend_from_slice(&members[..k]);
        train.extend_from_slice(&members[k..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok(Dataset { name, classes, train: all.select(&train), test: all.select(&test), flip_ok: true })
}

/// The class folders of `dir`, sorted by name (the label order).
fn class_dirs(dir: &Path) -> Result<Vec<String>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut classes: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    classes.sort();
    if classes.len() < 2 {
        return Err(DataError::malformed(dir, format!("needs a folder per class, found {} class folders", classes.len())));
    }
    Ok(classes)
}

fn read_split(dir: &Path, classes: &[String], size: u32) -> Result<Images, DataError> {
    let side = size as usize;
    let mut images = Images::empty(3, side, side);
    for (label, class) in classes.iter().enumerate() {
        let class_dir = dir.join(class);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&class_dir)
            .map_err(|e| DataError::io(&class_dir, e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().and_then(|x| x.to_str()).is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg")))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(DataError::malformed(&class_dir, "class folder without PNG or JPEG images"));
        }
        for f in files {
            let img = image::open(&f).map_err(|e| DataError::malformed(&f, format!("cannot decode image: {e}")))?;
            let rgb = img.resize_exact(size, size, FilterType::Triangle).to_rgb8();
            // HWC interleaved → CHW planes.
            for c in 0..3 {
                images.pixels.extend(rgb.pixels().map(|p| p.0[c]));
            }
            images.labels.push(label as u32);
        }
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
        image::RgbImage::from_pixel(w, h, image::Rgb(rgb)).save(path).unwrap();
    }

    #[test]
    fn reads_classes_resizes_and_holds_out_a_test_set() {
        let dir = tempfile::tempdir().unwrap();
        for (class, colour) in [("cat", [200, 10, 10]), ("dog", [10, 10, 200])] {
            std::fs::create_dir(dir.path().join(class)).unwrap();
            for i in 0..5 {
                png(&dir.path().join(class).join(format!("{i}.png")), 40 + i, 30, colour);
            }
        }
        let jpg = image::RgbImage::from_pixel(8, 8, image::Rgb([10, 10, 200]));
        jpg.save(dir.path().join("dog").join("extra.jpg")).unwrap();
        std::fs::write(dir.path().join("dog").join("notes.txt"), "ignored").unwrap();

        let d = load(dir.path(), &Options { size: 16, test_fraction: 0.2 }).unwrap();
        assert_eq!(d.classes, vec!["cat", "dog"]);
        assert_eq!(d.train.len() + d.test.len(), 11);
        assert_eq!(d.test.len(), 2, "one per class");
        assert_eq!((d.train.channels, d.train.height, d.train.width), (3, 16, 16));
        let cat = d.train.labels.iter().position(|&l| l == 0).unwrap();
        let img = d.train.image(cat);
        assert!(img[0] > 150 && img[256] < 50 && img[512] < 50, "red plane first");
    }

    #[test]
    fn broken_images_and_empty_classes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for class in ["a", "b"] {
            std::fs::create_dir(dir.path().join(class)).unwrap();
            png(&dir.path().join(class).join("ok.png"), 4, 4, [1, 2, 3]);
        }
        std::fs::write(dir.path().join("b").join("broken.png"), b"\x89PNG not really").unwrap();
        let e = load(dir.path(), &Options::default()).unwrap_err().to_string();
        assert!(e.contains("broken.png") && e.contains("cannot decode"), "{e}");

        std::fs::remove_file(dir.path().join("b").join("broken.png")).unwrap();
        std::fs::remove_file(dir.path().join("b").join("ok.png")).unwrap();
        let e = load(dir.path(), &Options::default()).unwrap_err().to_string();
        assert!(e.contains("without PNG or JPEG"), "{e}");
    }

    #[test]
    fn uses_train_and_test_folders_when_given() {
        let dir = tempfile::tempdir().unwrap();
        for split in ["train", "test"] {
            for class in ["x", "y"] {
                let d = dir.path().join(split).join(class);
                std::fs::create_dir_all(&d).unwrap();
                png(&d.join("1.png"), 4, 4, [9, 9, 9]);
            }
        }
        let d = load(dir.path(), &Options { size: 4, ..Options::default() }).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (2, 2));
    }
}

/// Bad image folders, fuzzed (issue 13).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::data::usable;
    use crate::fuzz::{apply, config, edits};
    use proptest::prelude::*;

    /// Cases per run (docs/src/reference/bad-input.md).
    pub const MUTATED: u32 = 128;
    pub const LAYOUTS: u32 = 128;

    fn encoded(format: image::ImageFormat, w: u32, h: u32, shade: u8) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([shade, (x * 40) as u8, (y * 50) as u8]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn png(shade: u8) -> Vec<u8> {
        encoded(image::ImageFormat::Png, 6, 5, shade)
    }

    fn jpeg(shade: u8) -> Vec<u8> {
        encoded(image::ImageFormat::Jpeg, 5, 4, shade)
    }

    const OPTIONS: Options = Options { size: 8, test_fraction: 0.25 };

    proptest! {
        #![proptest_config(config(MUTATED))]
        #[test]
        fn mutated_images_load_or_are_named(which in 0usize..4, edits in edits()) {
            let dir = tempfile::tempdir().unwrap();
            let files = [("cat/a.png", png(10)), ("cat/b.jpg", jpeg(20)), ("dog/a.png", png(200)), ("dog/b.jpeg", jpeg(220))];
            for (i, (name, body)) in files.iter().enumerate() {
                let path = dir.path().join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, if i == which { apply(body.clone(), &edits) } else { body.clone() }).unwrap();
            }
            match load(dir.path(), &OPTIONS) {
                Ok(d) => usable(&d, true)?,
                Err(e) => {
                    let bad = dir.path().join(files[which].0);
                    prop_assert!(e.to_string().contains(&format!("{}: malformed: cannot decode image: ", bad.display())), "{}", e);
                }
            }
        }
    }

    /// A folder of class folders (or train/ and test/ ones) holding images,
    /// broken images, other files and hidden ones, or nothing.
    fn layout() -> impl Strategy<Value = (bool, Vec<(String, Vec<u8>)>)> {
        let content = prop_oneof![3 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)];
        let file = (prop::sample::select(vec!["a.png", "b.jpg", "c.JPEG", "notes.txt", ".hidden.png", "d.png"]), content);
        let class = (prop::sample::select(vec!["cat", "dog", "bird", ".git"]), prop::collection::vec(file, 0..3));
        (any::<bool>(), prop::collection::vec((prop::sample::select(vec!["", "train/", "test/"]), class), 0..6)).prop_map(|(split, classes)| {
            let files = classes
                .into_iter()
                .flat_map(|(prefix, (class, files))| {
                    let prefix = if split { prefix } else { "" };
                    let dir = format!("{prefix}{class}/");
                    let mut out: Vec<(String, Vec<u8>)> = vec![(dir.clone(), vec![])];
                    out.extend(files.into_iter().map(|(name, content)| {
                        let body = match content {
                            0 if name.ends_with("png") => png(30),
                            0 => jpeg(90),
                            1 => b"not an image".to_vec(),
                            _ => vec![],
                        };
                        (format!("{dir}{name}"), body)
                    }));
                    out
                })
                .collect();
            (split, files)
        })
    }

    proptest! {
        #![proptest_config(config(LAYOUTS))]
        #[test]
        fn odd_layouts_load_or_name_a_path(layout in layout()) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("images");
            std::fs::create_dir(&root).unwrap();
            for (name, body) in &layout.1 {
                let path = root.join(name);
                if name.ends_with('/') {
                    std::fs::create_dir_all(&path).unwrap();
                } else {
                    std::fs::write(&path, body).unwrap();
                }
            }
            match load(&root, &OPTIONS) {
                Ok(d) => {
                    usable(&d, true)?;
                    prop_assert!(d.classes.len() >= 2 && d.classes.iter().all(|c| !c.starts_with('.')), "{:?}", d.classes);
                }
                Err(e) => {
                    let e = e.to_string();
                    prop_assert!(e.starts_with(&root.display().to_string()), "no path in the dataset: {}", e);
                    prop_assert!(e.contains("cannot decode image") || e.contains("needs a folder per class") || e.contains("without PNG or JPEG") || e.contains("not found"), "{}", e);
                }
            }
        }
    }
}
