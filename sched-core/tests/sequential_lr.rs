//! SequentialLR edge cases: a milestone at 0, whose construction changed in PyTorch 2.13.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use sched_core::spec::{Value, build, build_sequential, build_sequential_with};
use sched_core::{ParamGroup, SchedError, Scheduler, SequentialLrInit};

/// `SequentialLR([ExponentialLR(gamma=0.5), StepLR(step_size=2, gamma=0.1)], milestones=[0])`
/// on lr 0.1, its construction and five steps, with the construction of `init`.
fn exponential_then_step(init: SequentialLrInit) -> (Vec<f64>, Scheduler<'static>) {
    let mut g = [ParamGroup::new(0.1)];
    let a = build("ExponentialLR", &[("gamma", Value::Float(0.5))], &mut g).unwrap();
    let b = build("StepLR", &[("step_size", Value::Int(2)), ("gamma", Value::Float(0.1))], &mut g)
        .unwrap();
    let milestones = [("milestones", Value::List(&[Value::Int(0)]))];
    let mut s = build_sequential_with(Vec::leak(vec![a, b]), &milestones, init, &mut g).unwrap();
    let mut lrs = vec![g[0].lr];
    for _ in 0..5 {
        s.step(&mut g).unwrap();
        lrs.push(g[0].lr);
    }
    (lrs, s)
}

/// PyTorch >= 2.13 steps the child that runs at step 0 at construction (torch 2.15:
/// 0.1, 0.1, 0.01, 0.01, 0.001, 0.001), and the closed form is that child's from epoch 0.
#[test]
fn a_milestone_at_zero_starts_the_child_active_at_zero() {
    let (lrs, s) = exponential_then_step(SequentialLrInit::ActiveAtZero);
    let want = [0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1];
    assert_eq!(lrs.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), want.map(f64::to_bits));
    for (e, lr) in lrs.iter().enumerate() {
        let closed = s.lr_at(0, u64::try_from(e).unwrap()).unwrap();
        assert!((closed - lr).abs() <= lr * 1e-15, "epoch {e}: closed {closed}, stepped {lr}");
    }
}

/// PyTorch <= 2.12 always stepped the first child (torch 2.11: 0.1, 0.1, 0.1, 0.01, 0.01,
/// 0.001); the second is then never restarted, so there is no closed form.
#[test]
fn a_milestone_at_zero_with_the_old_construction_steps_the_first_child() {
    let (lrs, s) = exponential_then_step(SequentialLrInit::of_torch(2, 12));
    let want = [0.1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1];
    assert_eq!(lrs.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), want.map(f64::to_bits));
    assert_eq!(s.lr_at(0, 0), Err(SchedError::NoClosedForm));
}

/// The default is the current PyTorch, and the releases map to the two behaviours.
#[test]
fn the_default_is_the_current_pytorch() {
    assert_eq!(SequentialLrInit::default(), SequentialLrInit::ActiveAtZero);
    assert_eq!(SequentialLrInit::of_torch(2, 15), SequentialLrInit::ActiveAtZero);
    assert_eq!(SequentialLrInit::of_torch(2, 13), SequentialLrInit::ActiveAtZero);
    assert_eq!(SequentialLrInit::of_torch(2, 12), SequentialLrInit::First);
    assert_eq!(SequentialLrInit::of_torch(1, 13), SequentialLrInit::First);
    let mut g = [ParamGroup::new(0.1)];
    let a = build("ConstantLR", &[("factor", Value::Int(1))], &mut g).unwrap();
    let b = build("ConstantLR", &[("factor", Value::Float(0.1))], &mut g).unwrap();
    let c = build("ConstantLR", &[("factor", Value::Float(0.5))], &mut g).unwrap();
    // milestones [0, 0, ...]: bisect_right([0, 0], 0) = 2, the third child.
    let milestones = [("milestones", Value::List(&[Value::Int(0), Value::Int(0)]))];
    let s = build_sequential(Vec::leak(vec![a, b, c]), &milestones, &mut g).unwrap();
    assert_eq!(g[0].lr.to_bits(), (0.1f64 * 0.5).to_bits());
    let Scheduler::Sequential(seq) = &s else { panic!("not a SequentialLR") };
    assert_eq!(seq.init(), SequentialLrInit::ActiveAtZero);
}
