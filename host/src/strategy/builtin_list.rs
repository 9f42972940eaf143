// The strategies that ship with nasbox, each with the line `strategy list`
// prints. Read by `builtin.rs` and by `host/build.rs` (which embeds each
// component it finds built), so the two cannot disagree.

/// Name (the component's file stem) and one line on what it does.
pub const BUILTINS: &[(&str, &str)] = &[
    ("random", "random search: uniform samples without repeats (Bergstra & Bengio 2012)"),
    ("grid", "every architecture in turn: exhaustive enumeration of the space"),
    ("evolution", "regularized (aging) evolution with local steps on numbers (Real et al. 2019)"),
    ("local_search", "hill climbing over neighbours, restarting at local optima (White et al. 2020)"),
    ("reinforce", "an LSTM controller trained with REINFORCE (Zoph & Le 2017)"),
    ("tpe", "tree-structured Parzen estimator, as Optuna's TPESampler (Bergstra et al. 2011)"),
    ("gp", "Bayesian optimisation with a Gaussian process and expected improvement (Snoek et al. 2012)"),
    ("hyperband", "successive halving over fidelities in brackets (Li et al. 2017)"),
    ("bohb", "Hyperband with TPE proposing new architectures (Falkner et al. 2018)"),
    ("darts", "differentiable search over the relaxed space; needs --estimator supernet (Liu et al. 2019)"),
    ("gdas", "Gumbel-sampled differentiable search; needs --estimator supernet (Dong & Yang 2019)"),
    ("bananas", "an ensemble of neural predictors with Thompson sampling over mutations (White et al. 2021)"),
    ("npenas", "evolution with offspring chosen by a neural predictor (Wei et al. 2022)"),
    ("nsga2", "multi-objective evolution for a Pareto front; for --objectives (Deb et al. 2002)"),
];
