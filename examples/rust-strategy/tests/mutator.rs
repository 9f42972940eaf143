//! The example strategy's logic, run natively through the SDK.

use mutator::Mutator;
use nasbox_sdk::{native::Native, Candidate, Decision, Observation, Proposal, RunContext, Setting, Space, Status};

fn space() -> Space {
    Space { name: "t".into(), decisions: (0..6).map(|i| Decision { name: format!("d{i}"), choices: vec!["a".into(), "b".into(), "c".into()] }).collect() }
}

fn genotype(p: &Proposal) -> Vec<u32> {
    match p {
        Proposal::Genotype(Candidate { genotype, .. }) => genotype.clone(),
        Proposal::Relaxed(_) => panic!("discrete only"),
    }
}

#[test]
fn with_no_exploration_it_mutates_the_incumbent_in_one_decision() {
    let explore = Setting { key: "explore".into(), value: "0".into() };
    let mut m = Native::<Mutator>::init(1, space(), vec![explore], RunContext { max_trials: None, parallelism: 1 }).unwrap();
    let first = m.ask(1).unwrap();
    let incumbent = genotype(&first[0]);
    m.tell(vec![Observation { trial: 0, proposal: first[0].clone(), status: Status::Ok, objective: 0.8, cost: 1.0, metrics: vec![], gradient: None }]).unwrap();
    for p in m.ask(20).unwrap() {
        let g = genotype(&p);
        let changed = g.iter().zip(&incumbent).filter(|(a, b)| a != b).count();
        assert!(changed <= 1, "{g:?} vs {incumbent:?}");
    }
    assert_eq!(m.recommend().unwrap(), Some(incumbent));
}

#[test]
fn rejects_an_explore_probability_outside_0_1() {
    let bad = Setting { key: "explore".into(), value: "1.5".into() };
    let ctx = RunContext { max_trials: None, parallelism: 1 };
    assert!(Native::<Mutator>::init(1, space(), vec![bad], ctx).is_err());
}
