//! Fuzzing the spec readers (`cargo test`, and `FUZZ_SECONDS=N` in CI for a longer run): spec
//! strings, JSON spec documents and Python lambda bodies, mutated from the golden vectors'
//! specs and from a grammar of tokens. For every input: no panic, an error or a schedule; for a
//! schedule, every step is a value or an error, and the stepped lrs equal the closed form where
//! the schedule has one and the stepped value is finite (within 1e-9 relative to the largest
//! number in the spec, the documented ulp bounds being far smaller), except for ConstantLR with
//! `total_iters=0`, where PyTorch's own closed form differs (SPEC.md).
//! Each target prints `fuzz <target>: <N> inputs (<E> errors, <V> schedules)`.

use core::time::Duration;
use std::time::Instant;

use sched_core::ParamGroup;

use super::{Schedule, SpecSource, json};
use crate::torch_release::TorchRelease;

/// The golden vectors' specs (JSON), the seed corpus.
const GOLDEN: &str = include_str!("../../../tests/golden/sched_public.json");
/// The peer families' golden vectors (transformers, timm, optax), for the corpus.
const GOLDEN_PEERS: &str = include_str!("../../../tests/golden/sched_peers_public.json");

/// Seconds each target runs: `FUZZ_SECONDS` (default 2).
pub(super) fn budget() -> Duration {
    let secs = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

/// xorshift64*: deterministic inputs for a given `FUZZ_SEED`.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(stream: u64) -> Self {
        let seed = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
        Self((seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
    pub(super) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Tokens spliced into inputs: delimiters, keywords, scheduler names, extreme numbers.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ",",
    "=",
    " ",
    "'",
    "\"",
    "-",
    "+",
    ".",
    "e",
    "_",
    "lambda e: ",
    "**",
    "//",
    "StepLR(",
    "SequentialLR([",
    "ChainedScheduler([",
    "Compound([",
    "LambdaLR(lr_lambda=",
    "OneCycleLR(max_lr=0.1, total_steps=",
    "CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=",
    "CosineAnnealingWarmRestarts(T_0=",
    "ReduceLROnPlateau(",
    "milestones=[",
    "step_size=",
    "gamma=",
    "T_max=",
    "last_epoch=",
    "mode='exp_range'",
    "pow(",
    "warmup(",
    "step_pow(",
    "0",
    "-0.0",
    "1",
    "-1",
    "3",
    "1e308",
    "-1e308",
    "4.9e-324",
    "1e-320",
    "9223372036854775807",
    "9007199254740992",
    "-9223372036854775808",
    "0.5",
    "1000.0",
    "nan",
    "inf",
    "True",
    "None",
    "é",
    "\n",
    "[[[[",
    "))))",
    "{",
    "}",
    ":",
    "transformers.",
    "timm.",
    "optax.",
    "optax.join_schedules(schedules=[",
    "boundaries_and_scales={",
    "cosine_kwargs=[{",
    "num_warmup_steps=",
    "t_initial=",
];

/// Valid specs in PyTorch notation from the golden vectors (their JSON rendered), torch's
/// and the peer families' (transformers, timm, optax).
fn corpus() -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(GOLDEN).unwrap_or_default();
    let cases = doc["cases"].as_array().cloned().unwrap_or_default();
    let torch = cases.iter().filter_map(|c| json::render(&c["spec"].to_string()).ok());
    let doc: serde_json::Value = serde_json::from_str(GOLDEN_PEERS).unwrap_or_default();
    let cases = doc["cases"].as_array().cloned().unwrap_or_default();
    let peers = cases.iter().filter_map(|c| json::render(&c.to_string()).ok());
    torch.chain(peers).collect()
}

/// One random edit of `s`: delete, duplicate or replace a range, insert a token, flip a byte
/// (kept valid UTF-8), or truncate.
fn mutate(s: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let (a, b) = {
        let a = rng.below(n + 1);
        (a, (a + rng.below(8)).min(n))
    };
    let text = |r: &[char]| r.iter().collect::<String>();
    match rng.below(6) {
        0 => text(&chars[..a]) + &text(&chars[b..]),
        1 => text(&chars[..b]) + &text(&chars[a..]),
        2 => text(&chars[..a]) + rng.pick(TOKENS) + &text(&chars[b..]),
        3 => text(&chars[..a]) + rng.pick(TOKENS) + &text(&chars[a..]),
        4 => {
            let c = char::from_u32(u32::try_from(rng.below(0x250)).unwrap_or(0)).unwrap_or('?');
            text(&chars[..a]) + &c.to_string() + &text(&chars[b..])
        }
        _ => text(&chars[..a]),
    }
}

/// Counts of one target.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) inputs: u64,
    pub(super) errors: u64,
    pub(super) schedules: u64,
}

impl Tally {
    pub(super) fn report(&self, target: &str) {
        eprintln!(
            "fuzz {target}: {} inputs ({} errors, {} schedules), no panic",
            self.inputs, self.errors, self.schedules
        );
        assert!(self.inputs > 0);
    }
}

/// Builds `text` and steps it; checks stepped lrs against the closed form. Panics (the
/// test's failure) name the input.
fn exercise(text: &str, tally: &mut Tally) {
    tally.inputs += 1;
    let source = SpecSource { text: text.to_string(), file: None, torch: TorchRelease::CURRENT };
    let mut groups = [ParamGroup::new(0.1), ParamGroup::new(0.02)];
    let Ok(mut sched) = source.build(&mut groups) else {
        tally.errors += 1;
        return;
    };
    tally.schedules += 1;
    // The closed form's rounding error scales with the largest number in the formula (e.g.
    // `eta_min + (b - eta_min) * k` cancels for a huge `eta_min`): the tolerance does too.
    let largest = text
        .split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')))
        .filter_map(|t| t.parse::<f64>().ok())
        .filter(|x| x.is_finite())
        .fold(0.0f64, |m, x| m.max(x.abs()));
    // SPEC.md: ConstantLR with total_iters == 0 is where torch's own closed form and its
    // stepping disagree (stepping keeps b * factor).
    let torch_quirk = super::parse::parse(text).is_ok_and(|t| constant_lr_without_iters(&t));
    for epoch in 0..40usize {
        if let Schedule::One(s) = &sched
            && let Ok(closed) = s.lr_at(0, epoch as u64)
            && !matches!(s.kind(), "CosineAnnealingWarmRestarts")
            && !torch_quirk
        {
            let stepped = groups[0].lr;
            let tol = 1e-9 * (closed.abs() + stepped.abs() + 0.1 * largest) + 1e-300;
            // Where torch's own chain leaves the floats (0 * inf at a ConstantLR restore with a
            // subnormal factor, say), stepping is not finite and the closed form is: PyTorch
            // prints the same non-finite value then, and there is nothing to compare.
            let same = closed == stepped || (closed - stepped).abs() <= tol || !stepped.is_finite();
            assert!(same, "{text:?} epoch {epoch}: stepped {stepped:e}, closed form {closed:e}");
        }
        let metric = sched.needs_metric().then_some(1.0 / (1.0 + crate::num::usize_f64(epoch)));
        if sched.step(epoch, metric, &mut groups).is_err() {
            break;
        }
    }
}

/// Whether a ConstantLR in `node` has `total_iters == 0` (by keyword or position).
fn constant_lr_without_iters(node: &super::syntax::Node) -> bool {
    use super::syntax::Expr;
    match &node.expr {
        Expr::Call(c) => {
            let zero_iters = c.short_name() == "ConstantLR"
                && c.args.iter().enumerate().any(|(i, a)| {
                    let is_iters = match &a.name {
                        Some((k, _)) => k == "total_iters",
                        None => i == 1 || (i == 2 && matches!(c.args[0].value.expr, Expr::Name(_))),
                    };
                    is_iters && a.value.expr == Expr::Int(0)
                });
            zero_iters || c.args.iter().any(|a| constant_lr_without_iters(&a.value))
        }
        Expr::List(items) => items.iter().any(constant_lr_without_iters),
        _ => false,
    }
}

/// Runs `one` on generated inputs until the budget is spent.
pub(super) fn run(target: &str, stream: u64, mut one: impl FnMut(&mut Rng, &mut Tally)) {
    let mut rng = Rng::new(stream);
    let mut tally = Tally::default();
    let end = Instant::now() + budget();
    while Instant::now() < end {
        one(&mut rng, &mut tally);
    }
    tally.report(target);
}

#[test]
fn fuzz_spec_strings() {
    let corpus = corpus();
    assert!(corpus.len() > 100, "{}", corpus.len());
    run("spec strings", 1, |rng, tally| {
        let mut s = corpus[rng.below(corpus.len())].clone();
        for _ in 0..=rng.below(4) {
            s = mutate(&s, rng);
        }
        exercise(&s, tally);
    });
}

#[test]
fn fuzz_json_specs() {
    let doc: serde_json::Value = serde_json::from_str(GOLDEN).unwrap_or_default();
    let mut specs: Vec<String> =
        doc["cases"].as_array().into_iter().flatten().map(|c| c["spec"].to_string()).collect();
    // Whole peer-family cases (`{"library": ..., "name": ..., "kwargs": ...}`).
    let peers: serde_json::Value = serde_json::from_str(GOLDEN_PEERS).unwrap_or_default();
    specs.extend(peers["cases"].as_array().into_iter().flatten().map(|c| {
        let mut c = c.clone();
        if let Some(o) = c.as_object_mut() {
            // The recorded values are not part of the spec; keep the documents small.
            for k in ["lrs", "lrs_bits", "values", "values_bits"] {
                o.remove(k);
            }
        }
        c.to_string()
    }));
    run("JSON specs", 2, |rng, tally| {
        let mut s = specs[rng.below(specs.len())].clone();
        for _ in 0..=rng.below(3) {
            s = mutate(&s, rng);
        }
        match json::render(&s) {
            Ok(text) => exercise(&text, tally),
            Err(_) => {
                tally.inputs += 1;
                tally.errors += 1;
            }
        }
    });
}

/// The recorded Python lambda bodies, the seed corpus of the lambda target.
const GOLDEN_LAMBDA: &str = include_str!("../../../tests/golden/sched_lambda_public.json");

/// A random Python expression over `e` of at most `depth` levels, from the whole language
/// sched-core evaluates (and some it refuses: strings, names, keyword arguments).
fn python_expr(rng: &mut Rng, depth: usize) -> String {
    const ATOMS: &[&str] = &[
        "e",
        "e",
        "e",
        "0",
        "1",
        "2",
        "-1",
        "3",
        "10",
        "1000",
        "0.5",
        "0.95",
        "1e-3",
        "1e308",
        "4.9e-324",
        "-0.0",
        "2.5",
        "1_000",
        "0x1f",
        "True",
        "False",
        "math.pi",
        "math.e",
        "math.inf",
        "math.nan",
        "9223372036854775807",
        "(e + 1)",
        "(e // 10)",
        "'s'",
        "x",
    ];
    const BINARY: &[&str] = &[
        " + ", " - ", " * ", " / ", " // ", " % ", " ** ", " < ", " <= ", " == ", " != ", " > ",
        " and ", " or ",
    ];
    const UNARY: &[&str] = &[
        "-",
        "+",
        "not ",
        "abs",
        "int",
        "float",
        "bool",
        "round",
        "math.floor",
        "math.ceil",
        "math.sqrt",
        "math.exp",
        "math.log",
        "math.log2",
        "math.log10",
        "math.cos",
        "math.sin",
        "math.tan",
        "math.tanh",
        "math.atan",
        "math.fabs",
        "math.expm1",
        "math.log1p",
    ];
    const BINARY_CALLS: &[&str] = &[
        "min",
        "max",
        "pow",
        "round",
        "math.pow",
        "math.atan2",
        "math.fmod",
        "math.log",
        "math.copysign",
    ];
    if depth == 0 {
        return rng.pick(ATOMS).to_string();
    }
    match rng.below(9) {
        0 | 1 => rng.pick(ATOMS).to_string(),
        2 | 3 => {
            let (a, b) = (python_expr(rng, depth - 1), python_expr(rng, depth - 1));
            format!("({a}{}{b})", rng.pick(BINARY))
        }
        4 => {
            let f = rng.pick(UNARY);
            let a = python_expr(rng, depth - 1);
            if f.len() <= 4 && !f.chars().next().is_some_and(char::is_alphabetic) || f == "not " {
                format!("({f}{a})")
            } else {
                format!("{f}({a})")
            }
        }
        5 => {
            let f = rng.pick(BINARY_CALLS);
            let (a, b) = (python_expr(rng, depth - 1), python_expr(rng, depth - 1));
            format!("{f}({a}, {b})")
        }
        6 => {
            let (a, b, c) = (
                python_expr(rng, depth - 1),
                python_expr(rng, depth - 1),
                python_expr(rng, depth - 1),
            );
            format!("({a} if {b} else {c})")
        }
        7 => {
            let (a, b) = (python_expr(rng, depth - 1), python_expr(rng, depth - 1));
            format!("divmod({a}, {b})[{}]", rng.below(3))
        }
        _ => {
            let (a, b) = (python_expr(rng, depth - 1), python_expr(rng, depth - 1));
            format!("({a} <= e < {b})")
        }
    }
}

/// Builds `kind(lr_lambda=lambda var: body)` through the spec reader and steps it 40 epochs.
/// Every epoch the stepped lrs are bit for bit what the lambda gives evaluated on its own
/// (LambdaLR: its closed form `lr_at`, `base_lr * λ(e)`; MultiplicativeLR: the product of the
/// factors so far); a step where Python raises is an error naming the exception, the closed
/// form raises the same, and the groups keep their lrs. Panics name the input.
fn exercise_lambda(kind: &str, var: &str, body: &str, tally: &mut Tally) {
    use sched_core::python::LambdaProgram;

    let text = format!("{kind}(lr_lambda=lambda {var}: {body})");
    tally.inputs += 1;
    let source = SpecSource { text: text.clone(), file: None, torch: TorchRelease::CURRENT };
    let base = [0.1, 0.02];
    let mut groups = base.map(ParamGroup::new);
    let started = Instant::now();
    let built = source.build(&mut groups);
    // The body as the spec reader delimits it (up to a `,` or bracket closing the call).
    let tree = super::parse::parse(&text);
    let read = tree.as_ref().ok().and_then(|t| match &t.expr {
        super::syntax::Expr::Call(c) => c.args.first().and_then(|a| match &a.value.expr {
            super::syntax::Expr::Lambda { body, .. } => Some(body.clone()),
            _ => None,
        }),
        _ => None,
    });
    let program = read.as_deref().map_or(Err(()), |b| LambdaProgram::compile(var, b).map_err(drop));
    let mut sched = match built {
        Ok(s) => s,
        Err(err) => {
            // A lambda error exactly where the body does not compile or lambda(0) raises
            // (torch's construction calls it); any other error is about the rest of the text.
            let lambda_error = matches!(
                err.kind,
                super::SpecErrorKind::LambdaSyntax { .. }
                    | super::SpecErrorKind::Invalid {
                        error: sched_core::SchedError::LambdaRaised { .. },
                        ..
                    }
            );
            let refused = program.is_err() || program.is_ok_and(|p| p.factor(0).is_err());
            assert!(!lambda_error || refused, "{text:?}: {err}");
            tally.errors += 1;
            return;
        }
    };
    let Ok(program) = program else { panic!("{text:?}: built, but the body does not compile") };
    tally.schedules += 1;
    let multiplicative = kind == "MultiplicativeLR";
    let mut expected = base.map(|b| b * program.factor(0).unwrap_or(f64::NAN));
    if multiplicative {
        expected = base;
    }
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    for epoch in 0..40u64 {
        for (g, group) in groups.iter().enumerate() {
            let Schedule::One(s) = &sched else { unreachable!("a single scheduler") };
            assert!(
                same(group.lr, expected[g]),
                "{text:?} epoch {epoch} group {g}: stepped {:e}, evaluated {:e}",
                group.lr,
                expected[g]
            );
            if !multiplicative {
                let closed = s.lr_at(g, epoch).unwrap_or_else(|e| panic!("{text:?}: {e}"));
                assert!(
                    same(closed, group.lr),
                    "{text:?} epoch {epoch}: closed form {closed:e}, stepped {:e}",
                    group.lr
                );
            }
        }
        let before = groups.map(|g| g.lr.to_bits());
        let e = i64::try_from(epoch + 1).unwrap_or(i64::MAX);
        let step = usize::try_from(epoch).unwrap_or(usize::MAX);
        match (sched.step(step, None, &mut groups), program.factor(e)) {
            (Ok(()), Ok(f)) => {
                for (g, x) in expected.iter_mut().enumerate() {
                    *x = if multiplicative { *x * f } else { base[g] * f };
                }
            }
            (
                Err(super::schedule::StepError::Sched(sched_core::SchedError::LambdaRaised {
                    exception,
                    epoch: at,
                    ..
                })),
                Err(want),
            ) => {
                assert_eq!((exception, at), (want, e), "{text:?}");
                assert_eq!(
                    groups.map(|g| g.lr.to_bits()),
                    before,
                    "{text:?}: written before the error"
                );
                if let Schedule::One(s) = &sched
                    && !multiplicative
                {
                    assert!(
                        s.lr_at(0, epoch + 1).is_err(),
                        "{text:?}: the closed form did not raise"
                    );
                }
                break;
            }
            (got, want) => panic!("{text:?} epoch {e}: stepping gave {got:?}, evaluating {want:?}"),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(1), "{text:?} took {:?}", started.elapsed());
}

#[test]
fn fuzz_lambda_bodies() {
    let doc: serde_json::Value = serde_json::from_str(GOLDEN_LAMBDA).unwrap_or_default();
    let recorded: Vec<String> = doc["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["lambdas"].as_array().cloned().unwrap_or_default())
        .filter_map(|l| l["body"].as_str().map(str::to_string))
        .collect();
    assert!(recorded.len() > 100, "{}", recorded.len());
    run("lambda bodies", 3, |rng, tally| {
        let kind = if rng.below(2) == 0 { "LambdaLR" } else { "MultiplicativeLR" };
        let body = match rng.below(3) {
            // A recorded body, edited: mostly malformed.
            0 => mutate(&recorded[rng.below(recorded.len())], rng),
            // A recorded body as it is, or as the operand of a generated expression.
            1 => {
                let r = &recorded[rng.below(recorded.len())];
                if rng.below(2) == 0 {
                    r.clone()
                } else {
                    format!("({r}) * {}", python_expr(rng, 2))
                }
            }
            _ => {
                let depth = 1 + rng.below(5);
                python_expr(rng, depth)
            }
        };
        exercise_lambda(kind, "e", &body, tally);
    });
}
