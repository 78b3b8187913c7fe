//! SequentialLR edge cases.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use sched_core::ParamGroup;
use sched_core::spec::{Value, build};

/// SequentialLR with a milestone at 0 (found by the spec fuzzer): PyTorch never restarts that
/// child, which steps on from the first child's construction value, so there is no closed
/// form; stepping is PyTorch's.
#[test]
fn sequential_lr_with_a_milestone_at_zero_has_no_closed_form() {
    use sched_core::SchedError;
    use sched_core::spec::build_sequential;
    let mut g = [ParamGroup::new(0.1)];
    let a = build("ConstantLR", &[("factor", Value::Int(1))], &mut g).unwrap();
    let b = build("ConstantLR", &[("factor", Value::Float(0.1))], &mut g).unwrap();
    let milestones = [("milestones", Value::List(&[Value::Int(0)]))];
    let mut s = build_sequential(Vec::leak(vec![a, b]), &milestones, &mut g).unwrap();
    assert_eq!(s.lr_at(0, 0), Err(SchedError::NoClosedForm));
    assert_eq!(g[0].lr, 0.1); // the first child's construction
    s.step(&mut g).unwrap();
    assert_eq!(g[0].lr.to_bits(), (0.1f64 * 0.1).to_bits()); // the second, unrestarted
}
