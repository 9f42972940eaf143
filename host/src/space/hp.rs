//! Joint architecture and hyperparameter search (JAHS): a network space
//! with `+hp` (`nb201+hp`, `darts+hp`, `chain+hp`, `my.toml+hp`) adds seven
//! training decisions after the architecture's own. Together they make a
//! [`Recipe`]: how the built-in trainer trains that one trial.
//!
//! | decision    | key      | choices                                          |
//! |-------------|----------|--------------------------------------------------|
//! | `hp.lr`     | `lr`     | 0.001, 0.003, 0.01, 0.03, 0.1                    |
//! | `hp.wd`     | `wd`     | 0, 5e-5, 5e-4, 5e-3                              |
//! | `hp.batch`  | `batch`  | 32, 64, 128, 256                                 |
//! | `hp.smooth` | `smooth` | 0, 0.1, 0.2                                      |
//! | `hp.aug`    | `aug`    | off, crop-flip, strong (crop-flip + cutout)      |
//! | `hp.act`    | `act`    | relu, hardswish, gelu, mish                      |
//! | `hp.opt`    | `opt`    | sgd-nesterov, adamw                              |
//!
//! Notation: the architecture's own text, ` ; `, then `key=value` pairs:
//! `|nor_conv_3x3~0|+|...| ; lr=0.1 wd=5e-4 batch=64 smooth=0 aug=crop-flip act=relu opt=sgd-nesterov`.

use super::{Decision, GenotypeError};

/// Learning rates: wide enough for SGD (0.01–0.1) and AdamW (0.001–0.003).
pub const LR: [f64; 5] = [0.001, 0.003, 0.01, 0.03, 0.1];
/// Weight decay (coupled L2 for SGD, decoupled for AdamW).
pub const WD: [f64; 4] = [0.0, 5e-5, 5e-4, 5e-3];
pub const BATCH: [usize; 4] = [32, 64, 128, 256];
pub const SMOOTH: [f64; 3] = [0.0, 0.1, 0.2];

/// Training-time augmentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Augmentation {
    /// The images as they are.
    Off,
    /// Random crops from a 4-pixel zero padding, and horizontal flips where
    /// the dataset allows them (NAS-Bench-201's and DARTS' CIFAR recipe).
    CropFlip,
    /// Crop and flip, then cutout (DeVries & Taylor 2017): one square of
    /// half the image side, at a random centre, set to zero like the crop's
    /// padding.
    Strong,
}

/// The activation of every op in the network (cells, reductions, the
/// pre-processing of DARTS' cells and the head).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    #[default]
    Relu,
    Hardswish,
    /// Exact (erf) GELU, as PyTorch's `F.gelu` by default.
    Gelu,
    Mish,
}

/// The optimiser; both anneal the learning rate to 0 on a cosine per step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Optimiser {
    /// SGD with Nesterov momentum 0.9 and L2 weight decay.
    #[default]
    SgdNesterov,
    /// AdamW (β = 0.9, 0.999; ε = 1e-8) with decoupled weight decay.
    AdamW,
}

pub const AUGMENTATIONS: [(Augmentation, &str); 3] = [(Augmentation::Off, "off"), (Augmentation::CropFlip, "crop-flip"), (Augmentation::Strong, "strong")];
pub const ACTIVATIONS: [(Activation, &str); 4] =
    [(Activation::Relu, "relu"), (Activation::Hardswish, "hardswish"), (Activation::Gelu, "gelu"), (Activation::Mish, "mish")];
pub const OPTIMISERS: [(Optimiser, &str); 2] = [(Optimiser::SgdNesterov, "sgd-nesterov"), (Optimiser::AdamW, "adamw")];

impl Activation {
    pub fn name(self) -> &'static str {
        ACTIVATIONS.iter().find(|(a, _)| *a == self).expect("every activation is listed").1
    }
}

impl Augmentation {
    pub fn name(self) -> &'static str {
        AUGMENTATIONS.iter().find(|(a, _)| *a == self).expect("every augmentation is listed").1
    }
}

impl Optimiser {
    pub fn name(self) -> &'static str {
        OPTIMISERS.iter().find(|(o, _)| *o == self).expect("every optimiser is listed").1
    }
}

/// How one trial is trained: the hp part of a `+hp` genotype, decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipe {
    pub lr: f64,
    pub weight_decay: f64,
    pub batch_size: usize,
    pub label_smoothing: f64,
    pub augmentation: Augmentation,
    pub activation: Activation,
    pub optimiser: Optimiser,
}

/// The notation's keys, in genotype order.
pub const KEYS: [&str; 7] = ["lr", "wd", "batch", "smooth", "aug", "act", "opt"];

/// Weight decays as written in the notation (5e-4 rather than 0.0005).
const WD_TEXT: [&str; 4] = ["0", "5e-5", "5e-4", "5e-3"];

/// The choices of each decision as text, in genotype order.
fn choices() -> [Vec<String>; 7] {
    [
        LR.iter().map(|&x| format!("{x}")).collect(),
        WD_TEXT.iter().map(|x| x.to_string()).collect(),
        BATCH.iter().map(|b| b.to_string()).collect(),
        SMOOTH.iter().map(|&x| format!("{x}")).collect(),
        AUGMENTATIONS.iter().map(|(_, n)| n.to_string()).collect(),
        ACTIVATIONS.iter().map(|(_, n)| n.to_string()).collect(),
        OPTIMISERS.iter().map(|(_, n)| n.to_string()).collect(),
    ]
}

/// The training decisions a strategy sees after the architecture's: the
/// numbers ordered (the learning rate and batch size on a log scale; weight
/// decay, which includes 0, and label smoothing on a linear one), the rest
/// categorical.
pub fn decisions() -> Vec<Decision> {
    let numbers: [Option<(Vec<f64>, bool)>; 7] = [
        Some((LR.to_vec(), true)),
        Some((WD.to_vec(), false)),
        Some((BATCH.iter().map(|&b| b as f64).collect(), true)),
        Some((SMOOTH.to_vec(), false)),
        None,
        None,
        None,
    ];
    KEYS.iter()
        .zip(choices())
        .zip(numbers)
        .map(|((k, c), n)| match n {
            Some((values, log)) => Decision::ordered(format!("hp.{k}"), c, values, log),
            None => Decision::categorical(format!("hp.{k}"), c),
        })
        .collect()
}

/// Number of training decisions.
pub const COUNT: usize = KEYS.len();

impl Recipe {
    /// Decodes the hp part of a genotype (checked: one in-range index per
    /// decision).
    pub fn decode(hp: &[u32]) -> Result<Recipe, GenotypeError> {
        let space = super::Space { name: "hp".into(), decisions: decisions() };
        space.validate(hp)?;
        let i = |k: usize| hp[k] as usize;
        Ok(Recipe {
            lr: LR[i(0)],
            weight_decay: WD[i(1)],
            batch_size: BATCH[i(2)],
            label_smoothing: SMOOTH[i(3)],
            augmentation: AUGMENTATIONS[i(4)].0,
            activation: ACTIVATIONS[i(5)].0,
            optimiser: OPTIMISERS[i(6)].0,
        })
    }

    /// The indices of this recipe's choices (every value is on its grid
    /// when the recipe came from [`Recipe::decode`] or [`parse`]).
    pub fn encode(&self) -> Vec<u32> {
        let at = |xs: &[f64], x: f64| xs.iter().position(|&v| v == x).expect("a value on the grid") as u32;
        vec![
            at(&LR, self.lr),
            at(&WD, self.weight_decay),
            BATCH.iter().position(|&b| b == self.batch_size).expect("a batch size on the grid") as u32,
            at(&SMOOTH, self.label_smoothing),
            AUGMENTATIONS.iter().position(|(a, _)| *a == self.augmentation).expect("listed") as u32,
            ACTIVATIONS.iter().position(|(a, _)| *a == self.activation).expect("listed") as u32,
            OPTIMISERS.iter().position(|(o, _)| *o == self.optimiser).expect("listed") as u32,
        ]
    }

    /// `lr=0.1 wd=5e-4 batch=64 smooth=0 aug=crop-flip act=relu opt=sgd-nesterov`.
    pub fn to_text(&self) -> String {
        let c = choices();
        KEYS.iter().zip(self.encode()).zip(c.iter()).map(|((k, i), c)| format!("{k}={}", c[i as usize])).collect::<Vec<_>>().join(" ")
    }

    /// The recipe as JSON, for metrics.json and the exported model's CONFIG.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "lr": self.lr, "weight_decay": self.weight_decay, "batch_size": self.batch_size,
            "label_smoothing": self.label_smoothing, "augmentation": self.augmentation.name(),
            "activation": self.activation.name(), "optimiser": self.optimiser.name(),
        })
    }
}

/// Parses `key=value` pairs (every key once, any order; numbers in any
/// spelling of a grid value) into the hp part of a genotype.
pub fn parse(text: &str) -> Result<Vec<u32>, GenotypeError> {
    let bad = |why: String| GenotypeError::Notation(format!("training recipe `{}`: {why}", text.trim()));
    let c = choices();
    let mut out: [Option<u32>; COUNT] = [None; COUNT];
    for pair in text.split_whitespace() {
        let (key, value) = pair.split_once('=').ok_or_else(|| bad(format!("`{pair}` is not key=value")))?;
        let k = KEYS.iter().position(|&k| k == key).ok_or_else(|| bad(format!("unknown key `{key}` (the keys are {})", KEYS.join(", "))))?;
        if out[k].is_some() {
            return Err(bad(format!("`{key}` is given twice")));
        }
        let grid: Option<&[f64]> = match k {
            0 => Some(&LR),
            1 => Some(&WD),
            3 => Some(&SMOOTH),
            _ => None,
        };
        let index = match grid {
            Some(grid) => value.parse::<f64>().ok().and_then(|x| grid.iter().position(|&g| (g - x).abs() <= 1e-12 * g.abs().max(1e-12))),
            None => c[k].iter().position(|choice| choice == value),
        };
        out[k] = Some(index.ok_or_else(|| bad(format!("{key}={value} is not a choice (choose one of {})", c[k].join(", "))))? as u32);
    }
    let missing: Vec<&str> = KEYS.iter().zip(&out).filter(|(_, v)| v.is_none()).map(|(k, _)| *k).collect();
    if !missing.is_empty() {
        return Err(bad(format!("missing {} (every recipe names {})", missing.join(", "), KEYS.join(", "))));
    }
    Ok(out.iter().map(|v| v.expect("all present")).collect())
}

/// Splits `ARCH ; RECIPE` at its last ` ; ` (no architecture notation
/// uses `;`).
pub fn split_text(text: &str) -> Result<(&str, &str), GenotypeError> {
    text.rsplit_once(';').map(|(a, r)| (a.trim(), r.trim())).ok_or_else(|| {
        GenotypeError::Notation(format!(
            "`{}` has no training recipe: a +hp architecture is `ARCH ; lr=.. wd=.. batch=.. smooth=.. aug=.. act=.. opt=..`",
            text.trim()
        ))
    })
}

/// Estimators that do not train each trial cannot honour a recipe: the
/// supernet shares one set of weights trained one way, and the zero-cost
/// proxies score at initialisation (NASWOT reads ReLU codes). `Err` names
/// the space and the estimator.
pub fn check_estimator(space: &super::SearchSpace, estimator: &crate::estimate::EstimatorSpec) -> Result<(), String> {
    use crate::estimate::EstimatorSpec::{Supernet, ZeroCost};
    if space.recipe_len() > 0 && matches!(estimator, Supernet | ZeroCost) {
        return Err(format!(
            "estimator: {} does not apply to {}: its training decisions need every trial trained with its own recipe (use train, early-stop, command, or a table with {} rows)",
            estimator.to_text(),
            space.name(),
            space.name()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::SearchSpace;

    #[test]
    fn every_recipe_round_trips_through_its_text() {
        let arities: Vec<usize> = decisions().iter().map(|d| d.choices.len()).collect();
        assert_eq!(arities, vec![5, 4, 4, 3, 3, 4, 2]);
        let mut rng = crate::data::SplitMix(3);
        for _ in 0..200 {
            let g: Vec<u32> = arities.iter().map(|&a| rng.below(a) as u32).collect();
            let r = Recipe::decode(&g).unwrap();
            assert_eq!(r.encode(), g);
            assert_eq!(parse(&r.to_text()).unwrap(), g, "{}", r.to_text());
        }
    }

    #[test]
    fn text_reads_as_documented() {
        let g = parse("lr=0.1 wd=5e-4 batch=64 smooth=0 aug=crop-flip act=gelu opt=adamw").unwrap();
        let r = Recipe::decode(&g).unwrap();
        assert_eq!(
            r,
            Recipe {
                lr: 0.1,
                weight_decay: 5e-4,
                batch_size: 64,
                label_smoothing: 0.0,
                augmentation: Augmentation::CropFlip,
                activation: Activation::Gelu,
                optimiser: Optimiser::AdamW
            }
        );
        assert_eq!(r.to_text(), "lr=0.1 wd=5e-4 batch=64 smooth=0 aug=crop-flip act=gelu opt=adamw");
        // Other spellings of the same numbers, another order.
        assert_eq!(parse("opt=adamw act=gelu aug=crop-flip smooth=0.0 batch=64 wd=0.0005 lr=1e-1").unwrap(), g);
        assert_eq!(decisions()[1].choices, vec!["0", "5e-5", "5e-4", "5e-3"]);
    }

    #[test]
    fn bad_recipes_name_the_problem() {
        let full = "lr=0.1 wd=5e-4 batch=64 smooth=0 aug=crop-flip act=gelu opt=adamw";
        let err = |t: &str| parse(t).unwrap_err().to_string();
        assert!(err(&full.replace("lr=0.1", "lr=0.2")).contains("lr=0.2 is not a choice (choose one of 0.001, 0.003, 0.01, 0.03, 0.1)"));
        assert!(err(&full.replace("act=gelu", "act=tanh")).contains("act=tanh is not a choice (choose one of relu, hardswish, gelu, mish)"));
        assert!(err(&full.replace(" opt=adamw", "")).contains("missing opt"));
        assert!(err(&format!("{full} lr=0.1")).contains("`lr` is given twice"));
        assert!(err(&full.replace("batch=64", "momentum=0.9")).contains("unknown key `momentum`"));
        assert!(err(&full.replace("batch=64", "batch")).contains("`batch` is not key=value"));
    }

    #[test]
    fn hp_spaces_resolve_check_print_and_parse() {
        for base in ["nb201", "darts", "chain"] {
            let space = SearchSpace::resolve(&format!("{base}+hp")).unwrap();
            let plain = SearchSpace::resolve(base).unwrap();
            assert_eq!(space.name(), format!("{base}+hp"));
            let d = space.space();
            assert_eq!(d.decisions.len(), plain.space().decisions.len() + COUNT);
            assert_eq!(d.decisions.last().unwrap().name, "hp.opt");
            for g in space.sample(5, 5).unwrap() {
                let text = space.to_string(&g).unwrap();
                let (arch, recipe) = split_text(&text).unwrap();
                assert_eq!(arch, plain.to_string(&g[..g.len() - COUNT]).unwrap());
                assert_eq!(space.recipe(&g), Some(Recipe::decode(&parse(recipe).unwrap()).unwrap()));
                assert_eq!(space.parse(&text).unwrap(), g, "{text}");
                assert_eq!(space.network_genotype(&g), &g[..g.len() - COUNT]);
            }
            assert_eq!(plain.recipe(&plain.sample(1, 1).unwrap()[0]), None);
        }
        let nb = SearchSpace::resolve("nb201+hp").unwrap();
        let arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
        let e = nb.parse(arch).unwrap_err().to_string();
        assert!(e.contains("has no training recipe"), "{e}");
        let e = nb.parse(&format!("{arch} ; lr=0.1")).unwrap_err().to_string();
        assert!(e.contains("missing wd"), "{e}");
        let e = nb.check(&[0; 6]).unwrap_err();
        assert_eq!(e, GenotypeError::WrongLength { got: 6, expected: 13 });
        let e = nb.check(&[0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0]).unwrap_err().to_string();
        assert!(e.contains("hp.lr"), "{e}");
        assert!(SearchSpace::resolve("nb201+hp+hp").unwrap_err().to_string().contains("+hp once"));
        assert!(SearchSpace::resolve("toy+hp").unwrap_err().to_string().contains("unknown space `toy`"));
    }

    #[test]
    fn estimators_that_do_not_train_each_trial_refuse_hp_spaces() {
        use crate::estimate::EstimatorSpec;
        let hp = SearchSpace::resolve("darts+hp").unwrap();
        let e = check_estimator(&hp, &EstimatorSpec::ZeroCost).unwrap_err();
        assert!(e.contains("zero-cost does not apply to darts+hp"), "{e}");
        assert!(check_estimator(&hp, &EstimatorSpec::Supernet).unwrap_err().contains("supernet does not apply to darts+hp"));
        assert!(check_estimator(&hp, &EstimatorSpec::Train).is_ok());
        assert!(check_estimator(&SearchSpace::Darts, &EstimatorSpec::ZeroCost).is_ok());
    }

    mod fuzz {
        use super::*;
        use crate::fuzz::{apply_text, config, edits};
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(config(256))]
            /// Mutated `+hp` architectures never panic: they parse to a
            /// genotype that prints back to a text parsing to itself, or
            /// are refused saying which part is wrong.
            #[test]
            fn mutated_hp_architectures_parse_back_or_say_what_is_wrong(seed in 0u64..1000, edits in edits()) {
                let space = SearchSpace::resolve("nb201+hp").unwrap();
                let text = apply_text(&space.to_string(&space.sample(seed, 1).unwrap()[0]).unwrap(), &edits);
                match space.parse(&text) {
                    Ok(g) => prop_assert_eq!(space.parse(&space.to_string(&g).unwrap()).unwrap(), g),
                    Err(e) => {
                        let e = e.to_string();
                        prop_assert!(e.contains("training recipe") || e.contains('`'), "{e}");
                    }
                }
            }
        }
    }
}
