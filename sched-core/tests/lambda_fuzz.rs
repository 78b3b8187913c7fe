//! Random lambda bodies from the grammar (and random bytes): compiling never panics (a body
//! compiles or is a typed error), evaluating never panics and takes bounded time (straight-
//! line code: no loops in the language), and for every accepted body LambdaLR's closed form
//! gives the bits stepping gives, or the same exception at the same epoch.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use core::time::Duration;
use std::time::Instant;

use proptest::prelude::*;
use sched_core::python::LambdaProgram;
use sched_core::{ClosedForm, LambdaLr, LrLambda, MultiplicativeLr, ParamGroup, SchedError};

/// Literals, the parameter and `math` constants.
fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("e".to_owned()),
        3 => (-300i64..300).prop_map(|v| v.to_string()),
        1 => any::<i64>().prop_map(|v| v.to_string()),
        1 => prop::sample::select(vec![
            "2 ** 62", "3 ** e", "2 ** e", "0x1f", "1_000", "0b101", "True", "False",
        ])
        .prop_map(str::to_owned),
        3 => (0.0f64..2.0).prop_map(|x| format!("{x:?}")),
        1 => any::<f64>().prop_map(|x| format!("{x:?}")),
        1 => prop::sample::select(vec![
            "math.pi", "math.e", "math.tau", "math.inf", "math.nan", "1e308", "5e-324", "-0.0",
        ])
        .prop_map(str::to_owned),
    ]
}

const BINARY: &[&str] = &["+", "-", "*", "/", "//", "%", "**"];
const COMPARE: &[&str] = &["<", "<=", ">", ">=", "==", "!="];
const FUNC1: &[&str] = &[
    "abs",
    "int",
    "float",
    "bool",
    "round",
    "math.sqrt",
    "math.exp",
    "math.log",
    "math.log2",
    "math.log10",
    "math.sin",
    "math.cos",
    "math.tan",
    "math.atan",
    "math.tanh",
    "math.floor",
    "math.ceil",
    "math.fabs",
    "math.trunc",
    "math.expm1",
    "math.log1p",
    "math.asin",
    "math.acos",
    "math.sinh",
    "math.cosh",
    "math.exp2",
    "math.isnan",
    "math.isinf",
    "math.isfinite",
    "math.degrees",
    "math.radians",
];
const FUNC2: &[&str] = &[
    "pow",
    "min",
    "max",
    "round",
    "math.pow",
    "math.log",
    "math.atan2",
    "math.copysign",
    "math.fmod",
];

/// Bodies built from the grammar: every operator, chain, conditional and call.
fn body() -> impl Strategy<Value = String> {
    atom().prop_recursive(5, 40, 3, |inner| {
        let sel = |v: &'static [&'static str]| prop::sample::select(v.to_vec());
        prop_oneof![
            (inner.clone(), sel(BINARY), inner.clone(), any::<bool>()).prop_map(
                |(a, op, b, paren)| if paren {
                    format!("({a} {op} {b})")
                } else {
                    format!("{a} {op} {b}")
                }
            ),
            (prop::sample::select(vec!["-", "+", "not "]), inner.clone())
                .prop_map(|(op, a)| format!("{op}({a})")),
            (inner.clone(), sel(COMPARE), inner.clone(), sel(COMPARE), inner.clone())
                .prop_map(|(a, p, b, q, c)| format!("({a} {p} {b} {q} {c})")),
            (inner.clone(), prop::sample::select(vec!["and", "or"]), inner.clone())
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(x, c, y)| format!("({x} if {c} else {y})")),
            (sel(FUNC1), inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (sel(FUNC2), inner.clone(), inner.clone())
                .prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("max({a}, {b}, {c})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, m)| format!("pow({a}, {b}, {m})")),
            (inner.clone(), inner.clone(), prop::sample::select(vec!["0", "1", "-1", "-2"]))
                .prop_map(|(a, b, i)| format!("divmod({a}, {b})[{i}]")),
        ]
    })
}

/// Evaluating one body at one epoch: well within a millisecond (a generous bound, for
/// unoptimized builds on a loaded machine).
const EVAL_BOUND: Duration = Duration::from_millis(50);

/// Steps a LambdaLR and a MultiplicativeLR on `f` and checks the closed form against
/// stepping at every epoch.
fn check_schedulers(f: LrLambda, epochs: u64) {
    let mut groups = [ParamGroup::new(0.1), ParamGroup::tensor(0.05)];
    let mut mgroups = groups;
    let lambda = LambdaLr::new(f.into(), -1, &mut groups);
    let multiplicative = MultiplicativeLr::new(f.into(), -1, &mut mgroups);
    if let Ok(mut m) = multiplicative {
        for _ in 0..epochs {
            match m.step(&mut mgroups) {
                Ok(()) | Err(SchedError::LambdaRaised { .. }) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
    }
    let mut s = match lambda {
        Ok(s) => s,
        Err(e) => {
            assert!(matches!(e, SchedError::LambdaRaised { epoch: 0, .. }), "{e:?}");
            return;
        }
    };
    for e in 0..=epochs {
        if e > 0 {
            let bits = |gs: &[ParamGroup]| gs.iter().map(|g| g.lr.to_bits()).collect::<Vec<_>>();
            let before = bits(&groups);
            if let Err(err) = s.step(&mut groups) {
                assert!(matches!(err, SchedError::LambdaRaised { .. }), "{err:?}");
                assert_eq!(bits(&groups), before, "a failed step wrote to the groups");
                let closed = (0..2).find_map(|g| s.lr_at(g, e).err());
                assert_eq!(closed, Some(err), "closed form at the failing epoch {e}");
                return;
            }
        }
        for (g, group) in groups.iter().enumerate() {
            let closed = s.lr_at(g, e).unwrap();
            assert!(
                closed.to_bits() == group.lr.to_bits() || (closed.is_nan() && group.lr.is_nan()),
                "epoch {e}, group {g}: closed {closed:e}, stepped {:e}",
                group.lr
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn random_bodies_compile_evaluate_and_agree(body in body(), epoch in 0i64..1_000_000) {
        let Ok(p) = LambdaProgram::compile("e", &body) else { return Ok(()) };
        let start = Instant::now();
        let _ = p.call(epoch);
        let _ = p.call(-epoch);
        let _ = p.factor(epoch);
        prop_assert!(start.elapsed() < EVAL_BOUND * 3, "{body}: {:?}", start.elapsed());
        check_schedulers(LrLambda::Python(p), 12);
    }

    #[test]
    fn random_text_never_panics(text in "[ -~éλ\n\t]{0,60}", epoch in any::<i64>()) {
        if let Ok(p) = LambdaProgram::compile("e", &text) {
            let _ = p.call(epoch);
        }
    }

    #[test]
    fn token_soup_never_panics(
        tokens in prop::collection::vec(prop::sample::select(vec![
            "e", "1", "2.5", "(", ")", "[", "]", ",", ".", "+", "-", "*", "/", "//", "%", "**",
            "<", "==", "and", "or", "not", "if", "else", "True", "None", "math", "pi", "cos",
            "min", "max", "round", "pow", "divmod", "0", "=", "1e", "_", "lambda", "in",
        ]), 0..40),
        epoch in any::<i64>(),
    ) {
        let text = tokens.join(" ");
        if let Ok(p) = LambdaProgram::compile("e", &text) {
            let _ = p.call(epoch);
        }
    }
}

#[test]
fn deep_and_wide_bodies_stay_bounded() {
    // The most expensive shapes within the capacities: big-int powers and divisions.
    for body in [
        "3 ** e // 3 ** (e - 1) + 3 ** e % 7 + 3 ** e / 2 ** e",
        "pow(3 ** e, 2 ** 1000, 2 ** 62 + 1)",
        "round(3 ** e, -400) // 10 ** 400",
        "round(math.pi * 1e300, 300) + round(5e-324, 323)",
        "int(1e308) // 3 ** e * 3 ** e + (2 ** 1663 - 1) // (e + 1)",
    ] {
        let p = LambdaProgram::compile("e", body).unwrap();
        let start = Instant::now();
        for e in [1000, 999, 64, 0] {
            let _ = p.call(e);
        }
        assert!(start.elapsed() < EVAL_BOUND * 4, "{body}: {:?}", start.elapsed());
    }
}
