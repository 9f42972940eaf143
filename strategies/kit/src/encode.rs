//! Architecture encodings for predictors: what a network of the predictor
//! sees of a genotype.
//!
//! - **One-hot**: one input per choice of every decision. Fits any space.
//! - **Mixed** (the one-hot encoding of a space whose shape has ordered
//!   decisions or conditions): one-hot on categorical decisions, and one
//!   input per ordered decision, its choice's position in [0, 1]
//!   (`nasbox_sdk::Shape::position`), so that the predictor sees 0.001 next to
//!   0.003 and a continuous range as a number, not as a thousand unrelated
//!   inputs. An inactive decision (conditions) encodes as zeros, and an
//!   ordered decision that can be inactive has a second input, 1 when it is:
//!   position 0 is a value, not "off".
//! - **Path** (White et al., BANANAS, AAAI 2021): for a cell whose decisions
//!   are the operations on the edges of a DAG, one input per sequence of
//!   operations along a path from the cell's input node to its output node,
//!   counting the paths that carry it. An edge whose operation is `none`
//!   cuts the paths through it, so a cell with no path from input to
//!   output (no signal, chance accuracy) encodes as all zeros: the
//!   predictor need not learn that from data. BANANAS found the path
//!   encoding the better one for predictors on NAS-Bench-201-like cells.
//!
//! The path encoding is available when every decision is named `DST<-SRC`
//! (node numbers, as nasbox's `nb201` space names its edges), all have
//! the same choices, one of them `none`, and all are categorical without
//! conditions.

use nasbox_sdk::{Shape, Space, StrategyError};

/// How genotypes become predictor inputs.
#[derive(Debug, Clone)]
pub enum Encoding {
    /// Decisions' arities.
    OneHot(Vec<u32>),
    Path(Paths),
    Mixed(Mixed),
}

/// One-hot on categorical decisions, positions on ordered ones, zeros for
/// inactive ones (see the module's documentation).
#[derive(Debug, Clone)]
pub struct Mixed {
    shape: Shape,
    /// Where each decision's inputs start.
    offsets: Vec<usize>,
    width: usize,
}

impl Mixed {
    pub fn new(shape: &Shape) -> Mixed {
        let mut offsets = Vec::with_capacity(shape.len());
        let mut width = 0;
        for d in 0..shape.len() {
            offsets.push(width);
            width += match shape.is_ordered(d) {
                true => 1 + usize::from(!shape.decision(d).conditions.is_empty()),
                false => shape.arities()[d] as usize,
            };
        }
        Mixed { shape: shape.clone(), offsets, width }
    }

    fn encode(&self, genotype: &[u32]) -> Vec<f64> {
        let mut x = vec![0.0; self.width];
        let active = self.shape.active(genotype);
        for (d, (&c, &offset)) in genotype.iter().zip(&self.offsets).enumerate() {
            match (self.shape.is_ordered(d), active[d]) {
                (true, true) => x[offset] = self.shape.position(d, c),
                (true, false) => x[offset + 1] = 1.0,
                (false, true) => x[offset + c as usize] = 1.0,
                (false, false) => {}
            }
        }
        x
    }
}

/// The path encoding of one cell space.
#[derive(Debug, Clone, PartialEq)]
pub struct Paths {
    /// Every route from the input to the output node: the decisions
    /// (edges) along it, in order.
    routes: Vec<Vec<usize>>,
    /// Choice index → operation index among the non-`none` choices.
    op: Vec<Option<usize>>,
    /// Operations other than `none`.
    ops: usize,
    /// Where the features of paths of length l start (index l − 1).
    offsets: Vec<usize>,
    width: usize,
}

impl Paths {
    /// The path encoding of `space`, if it is a cell of `DST<-SRC` edges
    /// sharing one list of choices that includes `none`.
    pub fn of(space: &Space) -> Option<Paths> {
        let first = space.decisions.first()?;
        let mut edges = Vec::new();
        for d in &space.decisions {
            let (dst, src) = d.name.split_once("<-")?;
            let (dst, src): (usize, usize) = (dst.trim().parse().ok()?, src.trim().parse().ok()?);
            if src >= dst || d.choices != first.choices {
                return None;
            }
            edges.push((src, dst));
        }
        let none = first.choices.iter().position(|c| c == "none")?;
        let input = edges.iter().map(|e| e.0).min()?;
        let output = edges.iter().map(|e| e.1).max()?;
        // Depth-first from the input; edges go from lower to higher nodes,
        // so every walk ends.
        let mut routes = Vec::new();
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(input, vec![])];
        while let Some((node, route)) = stack.pop() {
            if node == output {
                routes.push(route);
                continue;
            }
            for (k, &(src, dst)) in edges.iter().enumerate().rev() {
                if src == node {
                    let mut next = route.clone();
                    next.push(k);
                    stack.push((dst, next));
                }
            }
        }
        let ops = first.choices.len() - 1;
        let longest = routes.iter().map(Vec::len).max()?;
        if ops == 0 || (ops as f64).powi(longest as i32) > 100_000.0 {
            return None; // too many features for a small predictor
        }
        let mut offsets = vec![];
        let mut width = 0;
        for l in 1..=longest {
            offsets.push(width);
            width += ops.pow(l as u32);
        }
        let op = (0..first.choices.len()).map(|c| if c == none { None } else { Some(c - usize::from(c > none)) }).collect();
        Some(Paths { routes, op, ops, offsets, width })
    }

    fn encode(&self, genotype: &[u32]) -> Vec<f64> {
        let mut x = vec![0.0; self.width];
        'route: for route in &self.routes {
            let mut index = 0;
            for &edge in route {
                let Some(op) = self.op[genotype[edge] as usize] else { continue 'route };
                index = index * self.ops + op;
            }
            x[self.offsets[route.len() - 1] + index] += 1.0;
        }
        x
    }
}

impl Encoding {
    /// `onehot` (on a space with ordered decisions or conditions, the mixed
    /// encoding), `path` (an error where the space is not a cell of edges,
    /// or has ordered decisions or conditions), or `auto`: path where
    /// possible, one-hot otherwise.
    pub fn of(space: &Space, shape: &Shape, kind: &str) -> Result<Encoding, StrategyError> {
        let plain = !shape.is_conditional() && (0..shape.len()).all(|d| !shape.is_ordered(d));
        let one_hot = || match plain {
            true => Encoding::OneHot(space.decisions.iter().map(|d| d.choices.len() as u32).collect()),
            false => Encoding::Mixed(Mixed::new(shape)),
        };
        let paths = || Paths::of(space).filter(|_| plain);
        match kind {
            "onehot" => Ok(one_hot()),
            "path" => paths().map(Encoding::Path).ok_or_else(|| {
                StrategyError::InvalidConfig(format!(
                    "encoding: `path` needs a cell space (categorical decisions named DST<-SRC with the same choices, `none` among them); space `{}` is not one",
                    space.name
                ))
            }),
            "auto" => Ok(paths().map(Encoding::Path).unwrap_or_else(one_hot)),
            other => Err(StrategyError::InvalidConfig(format!("encoding: `{other}` is not auto, path or onehot"))),
        }
    }

    /// Inputs per genotype.
    pub fn width(&self) -> usize {
        match self {
            Encoding::OneHot(arities) => arities.iter().map(|&a| a as usize).sum(),
            Encoding::Path(p) => p.width,
            Encoding::Mixed(m) => m.width,
        }
    }

    pub fn encode(&self, genotype: &[u32]) -> Vec<f64> {
        match self {
            Encoding::OneHot(arities) => {
                let mut x = vec![0.0; self.width()];
                let mut offset = 0;
                for (&c, &a) in genotype.iter().zip(arities) {
                    x[offset + c as usize] = 1.0;
                    offset += a as usize;
                }
                x
            }
            Encoding::Path(p) => p.encode(genotype),
            Encoding::Mixed(m) => m.encode(genotype),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::shape::{Condition, DecisionShape, Kind, Numbers};
    use nasbox_sdk::Decision;

    fn plain(space: &Space) -> Shape {
        Shape::categorical(space)
    }

    fn cell() -> Space {
        let ops = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];
        let edges = ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"];
        Space {
            name: "nb201".into(),
            decisions: edges.iter().map(|e| Decision { name: e.to_string(), choices: ops.iter().map(|o| o.to_string()).collect() }).collect(),
        }
    }

    #[test]
    fn one_hot_sets_one_input_per_decision_at_its_offset() {
        assert_eq!(Encoding::OneHot(vec![2, 1, 3]).encode(&[1, 0, 2]), vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn nb201_cells_have_84_path_features_and_four_routes() {
        let Encoding::Path(p) = Encoding::of(&cell(), &plain(&cell()), "auto").unwrap() else { panic!("nb201 is a cell") };
        assert_eq!(p.width, 4 + 16 + 64);
        assert_eq!(p.routes.len(), 4, "0→3, 0→1→3, 0→2→3, 0→1→2→3");
    }

    #[test]
    fn paths_count_operation_sequences_and_none_cuts_them() {
        let e = Encoding::of(&cell(), &plain(&cell()), "path").unwrap();
        // Every edge a 3x3 convolution (op 2 among the four non-none ops).
        let conv = e.encode(&[3; 6]);
        assert_eq!(conv[2], 1.0, "0→3");
        assert_eq!(conv[4 + 2 * 4 + 2], 2.0, "0→1→3 and 0→2→3: the same sequence twice");
        assert_eq!(conv[20 + (2 * 4 + 2) * 4 + 2], 1.0, "0→1→2→3");
        assert_eq!(conv.iter().sum::<f64>(), 4.0);
        // Only 1<-0 and 3<-1 carry operations: one path, skip then conv.
        let x = e.encode(&[1, 0, 0, 0, 3, 0]);
        assert_eq!(x.iter().sum::<f64>(), 1.0);
        assert_eq!(x[4 + 2], 1.0, "length 2: skip (0) then conv 3x3 (2)");
        // No path from input to output: nothing.
        assert!(e.encode(&[3, 3, 3, 0, 0, 0]).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn spaces_that_are_not_cells_fall_back_or_are_refused() {
        let mut s = cell();
        s.decisions[0].name = "stem".into();
        assert!(matches!(Encoding::of(&s, &plain(&s), "auto").unwrap(), Encoding::OneHot(_)));
        assert!(matches!(Encoding::of(&s, &plain(&s), "path"), Err(StrategyError::InvalidConfig(m)) if m.contains("encoding")));
        assert!(matches!(Encoding::of(&cell(), &plain(&cell()), "graph"), Err(StrategyError::InvalidConfig(m)) if m.contains("graph")));
    }

    /// Ordered decisions are one input, their position; categorical ones
    /// one-hot; an inactive decision is zeros, with its "inactive" input set
    /// when it is ordered. A cell whose shape is not all-categorical gets
    /// no path encoding.
    #[test]
    fn ordered_decisions_encode_as_positions_and_inactive_ones_as_zeros() {
        let space = nasbox_sdk::native::numbered_space(&[3, 5, 2, 3]);
        let ordered = |values: &[f64], log: bool| Kind::Ordered(Numbers { values: values.to_vec(), integer: false, log, continuous: false });
        let shapes = vec![
            DecisionShape { kind: Kind::Categorical, conditions: vec![] },
            DecisionShape { kind: ordered(&[1e-4, 1e-3, 1e-2, 1e-1, 1.0], true), conditions: vec![] },
            DecisionShape { kind: ordered(&[0.0, 1.0], false), conditions: vec![Condition { decision: 0, choices: vec![1] }] },
            DecisionShape { kind: Kind::Categorical, conditions: vec![Condition { decision: 0, choices: vec![1] }] },
        ];
        let shape = Shape::new(&space, shapes).unwrap();
        let e = Encoding::of(&space, &shape, "auto").unwrap();
        assert!(matches!(e, Encoding::Mixed(_)));
        assert_eq!(e.width(), 3 + 1 + 2 + 3);
        assert_eq!(e.encode(&[1, 2, 1, 2]), vec![0.0, 1.0, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(e.encode(&[0, 4, 0, 0]), vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(e.encode(&[1, 0, 0, 0]), vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        // A nb201 cell stays a path encoding when categorical, and is one
        // input per edge when its shape says the edges are numbers.
        let cell = cell();
        let numbers = (0..6).map(|_| DecisionShape { kind: ordered(&[0.0, 1.0, 2.0, 3.0, 4.0], false), conditions: vec![] }).collect();
        let shaped = Shape::new(&cell, numbers).unwrap();
        assert!(matches!(Encoding::of(&cell, &shaped, "auto").unwrap(), Encoding::Mixed(ref m) if m.width == 6));
        assert!(matches!(Encoding::of(&cell, &shaped, "path"), Err(StrategyError::InvalidConfig(m)) if m.contains("encoding")));
        assert!(matches!(Encoding::of(&cell, &plain(&cell), "onehot").unwrap(), Encoding::OneHot(ref a) if a == &vec![5; 6]));
    }
}
