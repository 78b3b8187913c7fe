//! The peer families fail where their Python source raises (issue "Hostile input, round three",
//! class 1), through the library: the step or construction Python raises at, the parameter,
//! Python's exception.
#![allow(clippy::unwrap_used)] // tests: a failure is the assertion

use sched_core::spec::{Value, build};
use sched_core::{ParamGroup, PyException, SchedError};

const RANGE: PyException = PyException::OverflowError("(34, 'Numerical result out of range')");

#[test]
fn timm_k_decay_overflows_at_step_one() {
    let mut groups = [ParamGroup::new(0.1)];
    let kw = [("t_initial", Value::Int(10)), ("k_decay", Value::Float(400.0))];
    let mut s = build("timm.CosineLRScheduler", &kw, &mut groups).unwrap();
    let raised = SchedError::PythonRaised { param: "k_decay", epoch: Some(1), exception: RANGE };
    assert_eq!(s.step(&mut groups), Err(raised));
    assert_eq!(groups[0].lr, 0.1, "nothing written by the failed step");
    assert_eq!(s.lr_at(0, 1), Err(raised));
}

#[test]
fn optax_onecycle_divides_by_zero_when_built() {
    let mut groups = [ParamGroup::new(0.1)];
    let kw = [
        ("transition_steps", Value::Int(10)),
        ("peak_value", Value::Float(0.1)),
        ("final_div_factor", Value::Int(0)),
    ];
    let e = build("optax.linear_onecycle_schedule", &kw, &mut groups).unwrap_err();
    assert_eq!(
        e,
        SchedError::PythonRaised {
            param: "final_div_factor",
            epoch: None,
            exception: PyException::ZeroDivisionError("float division by zero"),
        }
    );
    assert!(e.to_string().contains("ZeroDivisionError: float division by zero"), "{e}");
}

#[test]
fn transformers_cosine_of_inf_is_a_domain_error() {
    let mut groups = [ParamGroup::new(0.1)];
    let kw = [
        ("num_warmup_steps", Value::Int(2)),
        ("num_training_steps", Value::Int(10)),
        ("num_cycles", Value::Float(1e308)),
    ];
    let mut s = build("transformers.get_cosine_schedule_with_warmup", &kw, &mut groups).unwrap();
    // Steps 1 and 2 (warmup; then `inf * 0.0` is NaN, `math.cos(nan)` is nan, `max(0, nan)` 0).
    s.step(&mut groups).unwrap();
    s.step(&mut groups).unwrap();
    assert_eq!(groups[0].lr, 0.0);
    let e = s.step(&mut groups).unwrap_err();
    assert_eq!(
        e,
        SchedError::PythonRaised {
            param: "num_cycles",
            epoch: Some(3),
            exception: PyException::ValueError("math domain error"),
        }
    );
}

#[test]
fn repeated_dict_keys_are_one_key() {
    let mut groups = [ParamGroup::new(0.1)];
    let pairs: Vec<(Value<'_>, Value<'_>)> =
        (0..20).map(|i| (Value::Int(1 + i % 2), Value::Float(0.5))).collect();
    let kw = [("init_value", Value::Float(1.0)), ("boundaries_and_scales", Value::Dict(&pairs))];
    assert!(build("optax.piecewise_constant_schedule", &kw, &mut groups).is_ok());
}
