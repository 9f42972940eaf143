//! The search loop: the strategy proposes, the journal records, the
//! executor evaluates, the journal records, the strategy hears, until the
//! budget is spent or the strategy has nothing left to propose.
//!
//! Resume replays the journal's calls into a fresh instance of the
//! strategy with the same seed, checking that it proposes exactly what was
//! recorded, then evaluates the trials that were in flight and goes on.
//! With a deterministic estimator the result is the uninterrupted run's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use super::budget::{Budget, Spent};
use super::constraint::Constraints;
use super::executor::Executor;
use super::journal::{Asked, Call, Journal, Trial, TrialStatus};
use super::lock::RunLock;
use super::repeats::{Dispatch, InFlight};
use super::RunConfig;
use crate::estimate::Evaluation;
use crate::space::{SearchSpace, Space};
use crate::strategy::{Candidate, Metric, Observation, Plugin, Proposal, RunContext, Status};

/// The journal's file name inside a run folder.
pub const JOURNAL: &str = "journal.sqlite";

/// What the loop reports as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// Replay finished: calls replayed, trials that were in flight.
    Resumed { calls: usize, finished: usize, pending: usize },
    /// A trial finished (or was answered from the journal, or was invalid).
    Finished { trial: &'a Trial, best: Option<&'a Trial>, spent: Spent },
}

/// A run in progress.
pub struct Search {
    pub dir: PathBuf,
    pub config: RunConfig,
    pub space: SearchSpace,
    decisions: Space,
    journal: Journal,
    plugin: Plugin,
    budget: Budget,
    /// Checked on every successful result before it is recorded.
    constraints: Constraints,
    proposals: HashMap<u64, Proposal>,
    best: Option<Trial>,
    simulated: f64,
    elapsed_before: Duration,
    started: Instant,
    /// The strategy proposed nothing while nothing was in flight.
    exhausted: bool,
    /// Architectures being evaluated, and repeats waiting for them.
    in_flight: InFlight,
    /// `start` created the run folder (what [`Search::discard`] may remove).
    made_folder: bool,
    /// This process writes the run; no other may while it lives.
    _lock: RunLock,
}

/// The SHA-256 of a file, hex.
pub fn sha256(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

impl Search {
    /// Starts a new run in `dir` with a loaded (not yet initialised) plugin.
    pub fn start(dir: &Path, config: RunConfig, mut plugin: Plugin, strategy_path: &Path, command: &str) -> anyhow::Result<Search> {
        let space = SearchSpace::resolve(&config.space).context("space")?;
        let budget = Budget::parse(&config.budget).map_err(anyhow::Error::msg)?;
        Constraints::parse(&config.constraints).map_err(anyhow::Error::msg)?;
        let decisions = space.space();
        objectives_setting(&plugin, &config)?;
        let made = !dir.exists();
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let lock = RunLock::acquire(dir)?;
        let journal_path = dir.join(JOURNAL);
        if journal_path.exists() && !Journal::unstarted(&journal_path) {
            bail!("{}: already holds a run; continue it with `nasbox resume {}` or choose another --out", dir.display(), dir.display());
        }
        let begun = (|| {
            init(&mut plugin, &decisions, &config, &budget)?;
            let info = plugin.info().clone();
            Journal::create_with(
                &journal_path,
                &[
                    ("config", serde_json::to_value(&config)?),
                    ("command", serde_json::json!(command)),
                    ("strategy_path", serde_json::json!(strategy_path.display().to_string())),
                    ("strategy_sha256", serde_json::json!(sha256(strategy_path)?)),
                    ("strategy", serde_json::json!({"name": info.name, "version": info.version, "description": info.description})),
                    (
                        "space",
                        serde_json::json!({"name": space.name(), "decisions": decisions.decisions.len(), "size": decisions.size().map(|s| s.to_string())}),
                    ),
                    ("versions", serde_json::json!({"nasbox": env!("CARGO_PKG_VERSION"), "contract": crate::strategy::CONTRACT, "libtorch": "2.11.0"})),
                    ("elapsed", serde_json::json!(0.0)),
                ],
            )
            .map_err(anyhow::Error::from)
        })();
        match begun {
            Ok(journal) => Ok(Search { made_folder: made, ..Search::assemble(dir, config, space, journal, plugin, budget, Duration::ZERO, lock) }),
            // A strategy that would not start leaves no folder of ours behind.
            Err(e) => {
                if made {
                    let _ = super::folder::remove_unstarted(dir, lock, true);
                }
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        dir: &Path,
        config: RunConfig,
        space: SearchSpace,
        journal: Journal,
        plugin: Plugin,
        budget: Budget,
        elapsed_before: Duration,
        lock: RunLock,
    ) -> Search {
        // Checked when the run was started (and by `RunConfig::check`).
        let constraints = Constraints::parse(&config.constraints).unwrap_or_default();
        Search {
            dir: dir.to_path_buf(),
            constraints,
            config,
            decisions: space.space(),
            space,
            journal,
            plugin,
            budget,
            proposals: HashMap::new(),
            best: None,
            simulated: 0.0,
            elapsed_before,
            started: Instant::now(),
            exhausted: false,
            in_flight: InFlight::default(),
            made_folder: false,
            _lock: lock,
        }
    }

    /// Reads the configuration a run was started with.
    pub fn config_of(dir: &Path) -> anyhow::Result<(RunConfig, PathBuf, String)> {
        super::folder::check(dir)?;
        let journal = Journal::open(&dir.join(JOURNAL))?;
        let config: RunConfig = serde_json::from_value(journal.manifest("config")?.context("the journal has no config")?)
            .with_context(|| format!("{}: config in the manifest", dir.display()))?;
        let path = journal.manifest("strategy_path")?.and_then(|v| v.as_str().map(PathBuf::from)).context("the journal has no strategy path")?;
        let sha = journal.manifest("strategy_sha256")?.and_then(|v| v.as_str().map(String::from)).context("the journal has no strategy hash")?;
        Ok((config, path, sha))
    }

    /// Undoes [`Search::start`] when the search cannot begin after all (its
    /// estimator did not load, say), so the same `--out` can be given again:
    /// with no trial recorded, what it wrote is removed, and the folder too
    /// when `start` created it. A journal with trials is kept whole.
    pub fn discard(self) -> anyhow::Result<()> {
        if self.journal.trial_count()? > 0 {
            return Ok(());
        }
        let Search { dir, journal, made_folder, _lock: lock, .. } = self;
        drop(journal);
        super::folder::remove_unstarted(&dir, lock, made_folder)
    }

    /// Makes `path` the run's strategy from now on: a rebuilt file whose
    /// replay reproduced every recorded proposal.
    pub fn adopt_strategy(&mut self, path: &Path, sha: &str) -> anyhow::Result<()> {
        self.journal.set_manifest(&[("strategy_path", serde_json::json!(path.display().to_string())), ("strategy_sha256", serde_json::json!(sha))])?;
        Ok(())
    }

    /// Reopens a run and replays its recorded calls into `plugin` (a fresh
    /// instance with the run's seed). `amend` changes the recorded
    /// configuration from now on (a larger budget, other sandbox limits);
    /// the journal keeps the change. Returns the search and the trials that
    /// were in flight, which the caller submits again.
    pub fn resume(dir: &Path, mut plugin: Plugin, amend: &dyn Fn(&mut RunConfig), observer: &mut dyn FnMut(Event<'_>)) -> anyhow::Result<(Search, Vec<Trial>)> {
        super::folder::check(dir)?; // before the lock, which would write into a wrong folder
        let lock = RunLock::acquire(dir)?;
        let (mut config, _, _) = Search::config_of(dir)?;
        amend(&mut config);
        let mut journal = Journal::open(&dir.join(JOURNAL))?;
        journal.set_manifest(&[("config", serde_json::to_value(&config)?)])?;
        let space = SearchSpace::resolve(&config.space).context("space")?;
        let budget = Budget::parse(&config.budget).map_err(anyhow::Error::msg)?;
        let decisions = space.space();
        init(&mut plugin, &decisions, &config, &budget)?;
        let trials = journal.trials()?;
        let calls = journal.calls()?;
        let elapsed_before = Duration::from_secs_f64(journal.manifest("elapsed")?.and_then(|v| v.as_f64()).unwrap_or(0.0));
        let mut s = Search::assemble(dir, config, space, journal, plugin, budget, elapsed_before, lock);
        let recorded = |id: u64| {
            trials.get(id as usize).with_context(|| format!("resume: the journal of {} records a call for trial {id}, which it does not hold", dir.display()))
        };
        for (k, call) in calls.iter().enumerate() {
            // The first call that differs is named by its place in the
            // journal, so a rebuilt strategy's author knows where it diverged.
            let at = format!("resume: call {} of {} recorded", k + 1, calls.len());
            match call {
                Call::Ask { n, first, count } => {
                    let proposals = s.plugin.ask(*n).map_err(|e| anyhow::anyhow!("{at}, replaying ask({n}): {e}"))?;
                    if proposals.len() as u64 != *count {
                        bail!(
                            "{at}, ask({n}): the strategy proposed {} architectures where the journal recorded {count} (trials {first}..): it is not deterministic for its seed, or it is not the strategy the run started with",
                            proposals.len()
                        );
                    }
                    for (k, p) in proposals.into_iter().enumerate() {
                        let id = first + k as u64;
                        let recorded = recorded(id)?;
                        let (genotype, fidelity) = proposal_key(&s.space, &p);
                        let relaxed = match &p {
                            Proposal::Relaxed(w) => Some(w.clone()),
                            Proposal::Genotype(_) => None,
                        };
                        if genotype != recorded.genotype || fidelity != recorded.fidelity || relaxed != recorded.relaxed {
                            bail!("{at}, ask({n}): trial {id} differs from the journal: the strategy proposed {genotype:?} (fidelity {fidelity:?}), the journal has {:?} (fidelity {:?})", recorded.genotype, recorded.fidelity);
                        }
                        s.proposals.insert(id, p);
                    }
                }
                Call::Tell { trials: ids } => {
                    let observations = ids.iter().map(|&id| Ok(s.observation(recorded(id)?))).collect::<anyhow::Result<Vec<_>>>()?;
                    s.plugin.tell(&observations).map_err(|e| anyhow::anyhow!("{at}, replaying tell: {e}"))?;
                }
            }
        }
        for t in &trials {
            s.note_finished(t);
        }
        let pending: Vec<Trial> = trials.iter().filter(|t| t.status == TrialStatus::Pending).cloned().collect();
        observer(Event::Resumed { calls: calls.len(), finished: trials.len() - pending.len(), pending: pending.len() });
        Ok((s, pending))
    }

    /// Every trial of the journal.
    pub fn all_trials(&self) -> anyhow::Result<Vec<Trial>> {
        Ok(self.journal.trials()?)
    }

    /// Finished trials of the journal (for the early-stopping rule).
    pub fn finished_trials(&self) -> anyhow::Result<Vec<Trial>> {
        Ok(self.journal.trials()?.into_iter().filter(|t| t.status == TrialStatus::Ok && t.reused_from.is_none()).collect())
    }

    fn spent(&self) -> anyhow::Result<Spent> {
        Ok(Spent { trials: self.journal.trial_count()?, time: self.elapsed_before + self.started.elapsed(), simulated: self.simulated })
    }

    fn note_finished(&mut self, t: &Trial) {
        // A relaxed step's accuracy is not an architecture's.
        if t.status == TrialStatus::Ok && t.relaxed.is_none() && self.best.as_ref().is_none_or(|b| t.objective > b.objective) {
            self.best = Some(t.clone());
        }
        if t.status != TrialStatus::Pending {
            self.simulated += t.cost;
        }
    }

    fn observation(&self, t: &Trial) -> Observation {
        let proposal =
            self.proposals.get(&t.id).cloned().unwrap_or_else(|| Proposal::Genotype(Candidate { genotype: t.genotype.clone(), fidelity: t.fidelity }));
        let status = match &t.status {
            TrialStatus::Ok => Status::Ok,
            TrialStatus::Failed(r) => Status::Failed(r.clone()),
            TrialStatus::Invalid(r) => Status::Invalid(r.clone()),
            TrialStatus::Pending => Status::Failed("no result".into()),
        };
        Observation {
            trial: t.id,
            proposal,
            status,
            objective: if t.status == TrialStatus::Ok { t.objective } else { 0.0 },
            cost: t.cost,
            metrics: t.metrics.iter().map(|(name, value)| Metric { name: name.clone(), value: *value }).collect(),
            gradient: t.gradient.clone(),
        }
    }

    /// Runs until the budget is spent or the strategy is exhausted.
    /// `pending` are trials in flight from an earlier session.
    pub fn run(&mut self, executor: &mut dyn Executor, pending: Vec<Trial>, observer: &mut dyn FnMut(Event<'_>)) -> anyhow::Result<()> {
        let mut ready: Vec<(u64, Evaluation)> = Vec::new();
        for t in &pending {
            self.dispatch(t.id, &t.genotype, &t.arch, t.fidelity, executor, &mut ready)?;
        }
        loop {
            if super::interrupt::requested() {
                let cancelled = executor.cancel_all();
                bail!(
                    "interrupted: {} trial(s) in flight were cancelled and stay pending in the journal; continue with `nasbox resume {}`",
                    cancelled.len(),
                    self.dir.display()
                );
            }
            let spent = self.spent()?;
            if self.budget.out_of_time(&spent) {
                for id in executor.cancel_all() {
                    ready.push((id, Evaluation::failed("cut off: the run's time budget was reached")));
                }
            }
            // Ask for as many proposals as there are free slots.
            let free = executor.capacity().saturating_sub(executor.in_flight());
            // The strategy had nothing to propose just now: wait for a
            // result rather than asking again at once.
            let mut idle = false;
            if free > 0 && !self.exhausted && self.budget.allows_more(&spent) && ready.is_empty() {
                let n = self.budget.trials_left(&spent).map_or(free as u64, |left| left.min(free as u64)) as u32;
                let proposals = self.plugin.ask(n).map_err(|e| self.strategy_failed(e))?;
                if proposals.is_empty() && executor.in_flight() == 0 {
                    self.exhausted = true;
                }
                idle = proposals.is_empty();
                let rows: Vec<Asked> = proposals
                    .iter()
                    .map(|p| {
                        let (genotype, fidelity) = proposal_key(&self.space, p);
                        match p {
                            Proposal::Relaxed(w) => Asked { arch: self.relaxed_text(w), genotype, fidelity, relaxed: Some(w.clone()) },
                            Proposal::Genotype(_) => {
                                let arch = self.space.to_string(&genotype).unwrap_or_default();
                                Asked::genotype(genotype, arch, fidelity)
                            }
                        }
                    })
                    .collect();
                if !proposals.is_empty() {
                    let ids = self.journal.record_ask(n, &rows)?;
                    for ((id, p), row) in ids.into_iter().zip(proposals).zip(rows) {
                        self.proposals.insert(id, p);
                        self.dispatch(id, &row.genotype, &row.arch, row.fidelity, executor, &mut ready)?;
                    }
                    continue;
                }
            }
            let nothing_to_ask = self.exhausted || !self.budget.allows_more(&spent) || free == 0;
            let wait = ready.is_empty() && (nothing_to_ask || idle);
            ready.extend(executor.poll(wait)?);
            if !ready.is_empty() {
                self.settle(&mut ready, executor)?;
                self.finish(std::mem::take(&mut ready), observer)?;
                continue;
            }
            if executor.in_flight() == 0 && (self.exhausted || !self.budget.allows_more(&self.spent()?)) {
                return Ok(());
            }
            if executor.in_flight() == 0 && free > 0 && !self.exhausted {
                continue;
            }
        }
    }

    /// Sends a recorded proposal on its way: an invalid one and a repeat of
    /// a finished architecture are answered at once (the repeat from the
    /// journal), the others go to the executor. The same on resume as live,
    /// so a resumed run makes the same decisions.
    fn dispatch(
        &mut self,
        id: u64,
        genotype: &[u32],
        arch: &str,
        fidelity: Option<f64>,
        executor: &mut dyn Executor,
        ready: &mut Vec<(u64, Evaluation)>,
    ) -> anyhow::Result<()> {
        if let Some(Proposal::Relaxed(weights)) = self.proposals.get(&id) {
            if !executor.submit_relaxed(id, weights, self.plugin.relaxed_kind())? {
                ready
                    .push((id, Evaluation::invalid("a relaxed (continuous) proposal needs the supernet estimator; this run evaluates discrete architectures")));
            }
        } else if let Err(e) = self.space.check(genotype) {
            ready.push((id, Evaluation::invalid(e.to_string())));
        } else if let Some(earlier) = executor.reuses_results().then(|| self.journal.finished_like(genotype, fidelity)).transpose()?.flatten() {
            let t = self.journal.trial(earlier)?;
            let mut e = Evaluation::ok(t.objective, 0.0, t.metrics.clone());
            e.metrics.push(("reused-from".into(), earlier as f64));
            ready.push((id, e));
        } else if !executor.reuses_results() {
            executor.submit(id, genotype, arch, fidelity)?;
        } else if let Dispatch::Run = self.in_flight.dispatch(id, genotype, fidelity) {
            executor.submit(id, genotype, arch, fidelity)?;
        }
        Ok(())
    }

    /// Answers the repeats that waited for the trials in `ready` (see
    /// [`super::repeats`]), adding their results to the batch, or sends them
    /// on their way again where the trial they waited for failed.
    fn settle(&mut self, ready: &mut Vec<(u64, Evaluation)>, executor: &mut dyn Executor) -> anyhow::Result<()> {
        let mut k = 0;
        while k < ready.len() {
            let (id, e) = &ready[k];
            let (answered, again) = self.in_flight.finished(*id, e);
            ready.extend(answered);
            for w in again {
                let t = self.journal.trial(w)?;
                self.dispatch(w, &t.genotype, &t.arch, t.fidelity, executor, ready)?;
            }
            k += 1;
        }
        Ok(())
    }

    /// Records results durably, then tells the strategy.
    fn finish(&mut self, results: Vec<(u64, Evaluation)>, observer: &mut dyn FnMut(Event<'_>)) -> anyhow::Result<()> {
        let mut trials: Vec<Trial> = Vec::with_capacity(results.len());
        for (id, mut e) in results {
            self.judge(&mut e);
            let reused_from = e.metrics.iter().find(|(k, _)| k == "reused-from").map(|(_, v)| *v as u64);
            let metrics = e.metrics.into_iter().filter(|(k, _)| k != "reused-from").collect();
            let objective = if e.status == TrialStatus::Ok { e.objective } else { 0.0 };
            trials.push(Trial { objective, status: e.status, cost: e.cost, metrics, reused_from, gradient: e.gradient, ..self.journal.trial(id)? });
        }
        let elapsed = (self.elapsed_before + self.started.elapsed()).as_secs_f64();
        self.journal.record_results(&trials, elapsed)?;
        let observations: Vec<Observation> = trials.iter().map(|t| self.observation(t)).collect();
        for t in &trials {
            self.note_finished(t);
            let spent = self.spent()?;
            observer(Event::Finished { trial: t, best: self.best.as_ref(), spent });
        }
        self.plugin.tell(&observations).map_err(|e| self.strategy_failed(e))?;
        Ok(())
    }

    /// A successful result that breaks a constraint becomes an invalid one,
    /// `infeasible: …`, keeping its metrics and, as the metric `objective`,
    /// what it reached (see [`super::constraint`]).
    fn judge(&self, e: &mut Evaluation) {
        if e.status != TrialStatus::Ok || self.constraints.is_empty() {
            return;
        }
        if let Some(reason) = self.constraints.violation(&e.metrics) {
            e.metrics.push(("objective".into(), e.objective));
            e.status = TrialStatus::Invalid(reason);
            e.objective = 0.0;
        }
    }

    fn strategy_failed(&self, e: crate::strategy::StrategyError) -> anyhow::Error {
        // Out of fuel, the fix is a flag of `resume` itself: say which.
        let resume = match e.kind {
            crate::strategy::ErrorKind::OutOfFuel { budget } => format!("nasbox resume {} --fuel {:e}", self.dir.display(), budget.saturating_mul(2) as f64),
            _ => format!("nasbox resume {}", self.dir.display()),
        };
        anyhow::anyhow!("{e}\nthe run is stopped; its journal is intact ({}): fix the cause and continue with `{resume}`", self.dir.join(JOURNAL).display())
    }

    /// A relaxed proposal as text: the architecture its largest weights
    /// pick, marked as relaxed.
    fn relaxed_text(&self, weights: &[Vec<f64>]) -> String {
        let argmax: Vec<u32> =
            weights.iter().map(|w| w.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (k, &v)| if v > b.1 { (k, v) } else { b }).0 as u32).collect();
        match self.space.to_string(&argmax) {
            Ok(text) => format!("relaxed, argmax {text}"),
            Err(_) => format!("relaxed, argmax {argmax:?}"),
        }
    }

    /// How far the search got beyond its start: the size `k` of its start
    /// (a fifth of the trials, 10 to 50: evolution's random population at
    /// its defaults, and most strategies' warm-up), the best objective among
    /// those first trials and the best of all. `None` for a search no
    /// longer than its start or without a successful start.
    pub fn beyond_start(trials: &[Trial]) -> Option<(usize, f64, f64)> {
        let k = (trials.len() / 5).clamp(10, 50);
        if trials.len() <= k {
            return None;
        }
        let best = |ts: &[Trial]| {
            ts.iter().filter(|t| t.status == TrialStatus::Ok).map(|t| t.objective).fold(None, |b: Option<f64>, o| Some(b.map_or(o, |b| b.max(o))))
        };
        Some((k, best(&trials[..k])?, best(trials)?))
    }

    /// The best finished trial so far.
    pub fn best(&self) -> Option<&Trial> {
        self.best.as_ref()
    }

    /// The strategy's own recommendation, as text in the space's notation,
    /// recorded in the journal's manifest (`train --from` retrains it after
    /// a one-shot search).
    pub fn recommendation(&mut self) -> anyhow::Result<Option<String>> {
        let Some(g) = self.plugin.recommend()? else { return Ok(None) };
        match self.space.to_string(&g) {
            Ok(text) if self.space.check(&g).is_ok() => {
                self.journal.set_manifest(&[("recommendation", serde_json::json!(text))])?;
                Ok(Some(text))
            }
            Ok(text) => Ok(Some(format!("{text} (not a valid network: {})", self.space.check(&g).err().map(|e| e.to_string()).unwrap_or_default()))),
            Err(e) => Ok(Some(format!("{g:?} ({e})"))),
        }
    }

    pub fn spent_now(&self) -> anyhow::Result<Spent> {
        self.spent()
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    pub fn decisions(&self) -> &Space {
        &self.decisions
    }
}

/// The genotype and fidelity a proposal is recorded under (relaxed
/// proposals have no genotype): the genotype in canonical form, so that two
/// that differ only in inactive decisions are one architecture to the
/// journal, its repeat detection and tables (the strategy is still told
/// its proposal as it made it).
fn proposal_key(space: &SearchSpace, p: &Proposal) -> (Vec<u32>, Option<f64>) {
    match p {
        Proposal::Genotype(c) => (space.canonical(&c.genotype), c.fidelity),
        Proposal::Relaxed(_) => (vec![], None),
    }
}

/// A multi-objective run hands its objectives to the strategy as its
/// `objectives` setting (see `super::objectives`); a strategy that lists no
/// such key is refused, by name.
fn objectives_setting(plugin: &Plugin, config: &RunConfig) -> anyhow::Result<Option<(String, String)>> {
    let objectives = super::objectives::of(&config.objectives).map_err(anyhow::Error::msg)?;
    if objectives.is_empty() {
        return Ok(None);
    }
    let info = plugin.info();
    if !info.config.iter().any(|k| k.name == super::objectives::KEY) {
        bail!(
            "--objectives: the strategy `{}` does not take objectives (its info lists no `objectives` setting); use a multi-objective strategy such as nsga2",
            info.name
        );
    }
    Ok(Some((super::objectives::KEY.into(), crate::report::pareto::list(&objectives))))
}

fn init(plugin: &mut Plugin, decisions: &Space, config: &RunConfig, budget: &Budget) -> anyhow::Result<()> {
    let mut settings: Vec<(String, String)> = config.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    settings.extend(objectives_setting(plugin, config)?);
    let context = RunContext { max_trials: budget.trials, parallelism: config.workers.max(1) as u32 };
    plugin.init(decisions, &settings, context).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(id: u64, status: TrialStatus, objective: f64) -> Trial {
        Trial { status, objective, ..Trial::example(id) }
    }

    #[test]
    fn the_start_is_a_fifth_of_the_trials_between_10_and_50() {
        let ts: Vec<Trial> = (0..60)
            .map(|i| {
                trial(
                    i,
                    TrialStatus::Ok,
                    if i == 3 {
                        0.5
                    } else if i == 40 {
                        0.9
                    } else {
                        0.1
                    },
                )
            })
            .collect();
        assert_eq!(Search::beyond_start(&ts), Some((12, 0.5, 0.9)));
        assert_eq!(Search::beyond_start(&ts[..10]), None, "no longer than its start");
        let failed: Vec<Trial> = (0..20).map(|i| trial(i, if i < 10 { TrialStatus::Failed("x".into()) } else { TrialStatus::Ok }, 0.3)).collect();
        assert_eq!(Search::beyond_start(&failed), None, "nothing succeeded in the start");
        let big: Vec<Trial> = (0..1000).map(|i| trial(i, TrialStatus::Ok, i as f64)).collect();
        assert_eq!(Search::beyond_start(&big), Some((50, 49.0, 999.0)));
    }
}
