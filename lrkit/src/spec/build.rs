//! From the syntax tree to a running [`Scheduler`] through `sched_core::spec`, mapping every
//! typed error back to the part of the spec it is about.

use sched_core::registry::{self, Library};
use sched_core::spec::{self, Value};
use sched_core::{ParamGroup, SchedError, Scheduler, SequentialLrInit};

use super::error::{SpecError, SpecErrorKind};
use super::lambda;
use super::schedule::Schedule;
use super::syntax::{Arg, Call, Expr, Node, Span};

/// The parameters of the schedule `name` (comma-separated, in its library's positional
/// order), if `name` is one (`sched_core::registry`: torch, transformers, timm, optax; a
/// library prefix must match).
pub(crate) fn parameters(name: &str) -> Option<&'static str> {
    registry::find(name).map(|k| k.parameters)
}

/// The schedule an unknown name probably means: the closest name of the library its prefix
/// names (`timm.CosineLRSchedular` -> `timm.CosineLRScheduler`), else the same name in
/// another library (`timm.StepLR` -> `torch.StepLR`), else the closest name anywhere.
fn suggest_scheduler(name: &str) -> Option<String> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let library = name.split_once('.').and_then(|(first, _)| Library::from_prefix(first));
    if let Some(lib) = library {
        let same: Vec<&'static str> =
            registry::KINDS.iter().filter(|k| k.library == lib).map(|k| k.name).collect();
        if let Some(s) = closest(short, &same) {
            return Some(format!("{}.{s}", lib.prefix()));
        }
        if let Some(k) = registry::find(short) {
            return Some(format!("{}.{}", k.library.prefix(), k.name));
        }
    }
    let mut names = all_names();
    names.push("Compound");
    closest(short, &names).map(str::to_string)
}

/// Every schedule name, for suggestions.
fn all_names() -> Vec<&'static str> {
    registry::KINDS.iter().map(|k| k.name).collect()
}

/// Names of the optimizer argument PyTorch users write first; accepted and ignored.
const OPTIMIZER_NAMES: &[&str] = &["optimizer", "optim", "opt"];

/// Builds what `node` describes on `groups`: a scheduler, or at the top level a
/// `Compound([...], step_plan=[[...], ...])` of several.
pub(crate) fn build_schedule(
    node: &Node,
    init: SequentialLrInit,
    groups: &mut [ParamGroup],
) -> Result<Schedule, SpecError> {
    let Expr::Call(call) = &node.expr else {
        return build(node, init, groups).map(|s| Schedule::One(Box::new(s)));
    };
    if call.short_name() != "Compound" {
        return build(node, init, groups).map(|s| Schedule::One(Box::new(s)));
    }
    let args = keyword_args(call, &["schedulers", "step_plan"])?;
    let mut parts = Vec::new();
    let mut plan = None;
    for (name, span, value) in &args {
        match (name.as_str(), &value.expr) {
            ("schedulers", Expr::List(items)) => {
                for item in items {
                    parts.push(build(item, init, groups)?);
                }
            }
            ("step_plan", Expr::List(rows)) => plan = Some(rows),
            ("schedulers" | "step_plan", _) => {
                return Err(SpecError::new(
                    SpecErrorKind::BadSchedulers { callee: "Compound".into() },
                    value.span,
                ));
            }
            _ => {
                let kind = SpecErrorKind::UnknownParameter {
                    scheduler: "Compound".into(),
                    name: name.clone(),
                    accepted: "schedulers, step_plan",
                    suggestion: None,
                };
                return Err(SpecError::new(kind, *span));
            }
        }
    }
    if parts.is_empty() {
        return Err(SpecError::new(
            SpecErrorKind::BadSchedulers { callee: "Compound".into() },
            call.close,
        ));
    }
    let plan = match plan {
        None => None,
        Some(rows) => Some(step_plan(rows, parts.len())?),
    };
    Ok(Schedule::Compound { parts, plan })
}

/// Reads `step_plan`: one list of scheduler indices (below `parts`) per step.
fn step_plan(rows: &[Node], parts: usize) -> Result<Vec<Vec<usize>>, SpecError> {
    let bad = |span| {
        let kind = SpecErrorKind::Unexpected {
            found: "this".into(),
            expected: "a list of scheduler indices per step, e.g. step_plan=[[0, 1], [1]]",
        };
        SpecError::new(kind, span)
    };
    rows.iter()
        .map(|row| {
            let Expr::List(items) = &row.expr else { return Err(bad(row.span)) };
            items
                .iter()
                .map(|n| match n.expr {
                    Expr::Int(i) => {
                        usize::try_from(i).ok().filter(|&i| i < parts).ok_or_else(|| bad(n.span))
                    }
                    _ => Err(bad(n.span)),
                })
                .collect()
        })
        .collect()
}

/// Builds the scheduler `node` describes on `groups`: children first, in order, on the same
/// groups, as PyTorch constructs them; a SequentialLR's construction is `init`'s. Composite children are leaked (`Vec::leak`): they
/// live as long as the process, which is what a command-line run needs.
pub(crate) fn build(
    node: &Node,
    init: SequentialLrInit,
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'static>, SpecError> {
    let Expr::Call(call) = &node.expr else {
        // A bare scheduler name lacks its arguments; anything else is not a scheduler.
        let kind = match &node.expr {
            Expr::Name(n) if parameters(n).is_some() => {
                let short = n.rsplit('.').next().unwrap_or(n);
                SpecErrorKind::MissingCall {
                    name: short.to_string(),
                    parameters: parameters(n).unwrap_or(""),
                }
            }
            Expr::Name(n) => {
                let short = n.rsplit('.').next().unwrap_or(n);
                match closest(short, &all_names()) {
                    Some(s) => SpecErrorKind::UnknownScheduler {
                        name: n.clone(),
                        suggestion: Some(s.to_string()),
                    },
                    None => SpecErrorKind::Unexpected {
                        found: format!("the name `{n}`"),
                        expected: "a scheduler such as StepLR(step_size=10)",
                    },
                }
            }
            _ => SpecErrorKind::Unexpected {
                found: "a value".into(),
                expected: "a scheduler such as StepLR(step_size=10)",
            },
        };
        return Err(SpecError::new(kind, node.span));
    };
    let kind = call.short_name();
    let Some(param_list) = parameters(&call.name) else {
        let kind = if kind == "Compound" {
            SpecErrorKind::Unexpected {
                found: "`Compound`".into(),
                expected: "a scheduler (Compound is only allowed as the whole spec)",
            }
        } else if lambda::is_function(kind) {
            SpecErrorKind::Unexpected {
                found: format!("the learning-rate function `{kind}`"),
                expected: "a scheduler such as LambdaLR(lr_lambda=pow(0.95))",
            }
        } else {
            SpecErrorKind::UnknownScheduler {
                name: call.name.clone(),
                suggestion: suggest_scheduler(&call.name),
            }
        };
        return Err(SpecError::new(kind, call.name_span));
    };
    let names: Vec<&'static str> = param_list.split(", ").collect();
    let args = keyword_args(call, &names)?;
    // Unknown keywords first: a misspelt required one would otherwise read as missing.
    if let Some(a) = args.iter().find(|a| !names.contains(&a.0.as_str())) {
        let kind = SpecErrorKind::UnknownParameter {
            scheduler: kind.to_string(),
            name: a.0.clone(),
            accepted: param_list,
            suggestion: closest(&a.0, &names),
        };
        return Err(SpecError::new(kind, a.1));
    }

    let composite = matches!(kind, "SequentialLR" | "ChainedScheduler");
    let mut children = Vec::new();
    let mut rest: Vec<&(String, Span, &Node)> = Vec::new();
    for a in &args {
        if composite && a.0 == "schedulers" {
            let Expr::List(items) = &a.2.expr else {
                return Err(SpecError::new(
                    SpecErrorKind::BadSchedulers { callee: kind.to_string() },
                    a.2.span,
                ));
            };
            for item in items {
                children.push(build(item, init, groups)?);
            }
        } else {
            rest.push(a);
        }
    }
    if composite && !args.iter().any(|a| a.0 == "schedulers") {
        return Err(SpecError::new(
            SpecErrorKind::BadSchedulers { callee: kind.to_string() },
            call.close,
        ));
    }

    // CyclicLR's `scale_fn` is a Python function: only its default, None, can be written.
    if let Some(a) = rest.iter().find(|a| a.0 == "scale_fn") {
        if a.2.expr != Expr::None {
            return Err(SpecError::new(SpecErrorKind::CustomScaleFn, a.2.span));
        }
        rest.retain(|a| a.0 != "scale_fn");
    }
    let values: Vec<Value<'_>> = rest.iter().map(|a| value(a.2)).collect::<Result<_, _>>()?;
    let kwargs: Vec<(&str, Value<'_>)> =
        rest.iter().zip(values).map(|(a, v)| (a.0.as_str(), v)).collect();
    let built = match kind {
        "SequentialLR" => spec::build_sequential_with(children.leak(), &kwargs, init, groups),
        "ChainedScheduler" => spec::build_chained(children.leak(), &kwargs, groups),
        _ => spec::build(kind, &kwargs, groups),
    };
    built.map_err(|error| locate(error, kind, call, &rest, param_list))
}

/// The arguments as `(keyword, keyword span, value)`: positional ones named by their
/// position, a leading `optimizer` dropped; repeated keywords are errors (found in time
/// linear in the number of arguments).
fn keyword_args<'n>(
    call: &'n Call,
    names: &[&'static str],
) -> Result<Vec<(String, Span, &'n Node)>, SpecError> {
    let mut out: Vec<(String, Span, &Node)> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut positional = 0;
    let mut seen_keyword = false;
    for (i, arg) in call.args.iter().enumerate() {
        match arg {
            Arg { name: Some((k, span)), value } => {
                seen_keyword = true;
                // `optimizer=opt` names the optimizer the schedule drives: implicit here.
                if k == "optimizer" && matches!(value.expr, Expr::Name(_)) {
                    continue;
                }
                if !seen.insert(k) {
                    return Err(SpecError::new(
                        SpecErrorKind::RepeatedKeyword { name: k.clone() },
                        *span,
                    ));
                }
                out.push((k.clone(), *span, value));
            }
            Arg { name: None, value } => {
                if seen_keyword {
                    return Err(SpecError::new(SpecErrorKind::PositionalAfterKeyword, value.span));
                }
                if i == 0
                    && matches!(&value.expr, Expr::Name(n) if OPTIMIZER_NAMES.contains(&n.as_str()))
                {
                    continue;
                }
                let Some(name) = names.get(positional) else {
                    return Err(SpecError::new(
                        SpecErrorKind::TooManyPositional {
                            callee: call.short_name().to_string(),
                            max: names.len(),
                        },
                        value.span,
                    ));
                };
                positional += 1;
                seen.insert(name);
                out.push(((*name).to_string(), value.span, value));
            }
        }
    }
    Ok(out)
}

/// The sched-core value of a node. Lists are leaked: `Value::List` borrows a slice that
/// must outlive the kwargs, and a command-line run builds a handful of them.
fn value(node: &Node) -> Result<Value<'_>, SpecError> {
    Ok(match &node.expr {
        Expr::Int(i) => Value::Int(*i),
        Expr::Float(x) => Value::Float(*x),
        Expr::Str(s) => Value::Str(s),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::None => Value::None,
        Expr::List(items) => {
            let items: Vec<Value<'_>> = items.iter().map(value).collect::<Result<_, _>>()?;
            Value::List(items.leak())
        }
        Expr::Dict(items) => {
            // Python's dict: a repeated key is one key (its first position, its last value).
            let items: Vec<(Value<'_>, Value<'_>)> = super::dict::distinct(items)
                .into_iter()
                .map(|(k, v)| Ok((value(&items[k].0)?, value(&items[v].1)?)))
                .collect::<Result<_, SpecError>>()?;
            Value::Dict(items.leak())
        }
        Expr::Call(c) if lambda::is_function(c.short_name()) => Value::Lambda(lambda::lambda(c)?),
        Expr::Call(c) if registry::find(&c.name).is_some_and(|k| k.library == Library::Optax) => {
            // An optax schedule as an argument (`join_schedules(schedules=[...])`).
            let params = parameters(&c.name).unwrap_or("");
            let names: Vec<&'static str> = params.split(", ").collect();
            let args = keyword_args(c, &names)?;
            if let Some(a) = args.iter().find(|a| !names.contains(&a.0.as_str())) {
                let kind = SpecErrorKind::UnknownParameter {
                    scheduler: c.short_name().to_string(),
                    name: a.0.clone(),
                    accepted: params,
                    suggestion: closest(&a.0, &names),
                };
                return Err(SpecError::new(kind, a.1));
            }
            let kwargs: Vec<(&str, Value<'_>)> = args
                .iter()
                .map(|(k, _, v)| Ok((&*Box::leak(k.clone().into_boxed_str()), value(v)?)))
                .collect::<Result<_, SpecError>>()?;
            Value::Call { name: &c.name, kwargs: kwargs.leak() }
        }
        Expr::Lambda { var, body, body_span } => {
            Value::Lambda(lambda::from_python(var, body, *body_span)?)
        }
        Expr::Call(c) if parameters(c.short_name()).is_some() => {
            return Err(SpecError::new(
                SpecErrorKind::Unexpected {
                    found: format!("the scheduler `{}`", c.short_name()),
                    expected: "a value (schedulers nest only in SequentialLR/ChainedScheduler)",
                },
                c.name_span,
            ));
        }
        Expr::Call(c) => return Err(lambda::unknown_function(c.short_name(), c.name_span)),
        Expr::Name(n) => {
            return Err(SpecError::new(SpecErrorKind::UnknownName { name: n.clone() }, node.span));
        }
    })
}

/// The parameter closest to `name` (case-insensitive edit distance at most 2), if any.
fn closest(name: &str, names: &[&'static str]) -> Option<&'static str> {
    let distance = |a: &str, b: &str| {
        let (a, b): (Vec<char>, Vec<char>) =
            (a.to_lowercase().chars().collect(), b.to_lowercase().chars().collect());
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut prev = row[0];
            row[0] = i;
            for j in 1..=b.len() {
                let cur = row[j];
                row[j] =
                    (row[j] + 1).min(row[j - 1] + 1).min(prev + usize::from(a[i - 1] != b[j - 1]));
                prev = cur;
            }
        }
        row[b.len()]
    };
    names
        .iter()
        .map(|n| (distance(name, n), *n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// The argument a sched-core error is about, to point at it: the parameter it names, but
/// `cycle_momentum` for a missing momentum and `last_epoch` for a missing `initial_lr`.
fn named_param(e: &SchedError) -> Option<&'static str> {
    match e {
        SchedError::MissingMomentum { .. } => Some("cycle_momentum"),
        SchedError::MissingInitialLr { .. } => Some("last_epoch"),
        _ => e.param(),
    }
}

/// Turns a sched-core error into a spec error at the argument it is about: an unknown
/// keyword at the keyword, a bad value at the value, a missing one at `)`, anything else at
/// the scheduler's name.
fn locate(
    error: SchedError,
    kind: &str,
    call: &Call,
    args: &[&(String, Span, &Node)],
    accepted: &'static str,
) -> SpecError {
    if let SchedError::UnknownParameter { position } = error
        && let Some(a) = args.get(position)
    {
        let kind = SpecErrorKind::UnknownParameter {
            scheduler: kind.to_string(),
            name: a.0.clone(),
            accepted,
            suggestion: None,
        };
        return SpecError::new(kind, a.1);
    }
    if let SchedError::UnknownDictKey { param, item, position, function } = error
        && let Some(key) = dict_key(args, param, item, position)
    {
        let names: Vec<&'static str> =
            parameters(function).map(|p| p.split(", ").collect()).unwrap_or_default();
        let name = match &key.expr {
            Expr::Str(s) => s.clone(),
            _ => "?".into(),
        };
        let kind = SpecErrorKind::UnknownParameter {
            scheduler: function.to_string(),
            suggestion: closest(&name, &names),
            name,
            accepted: parameters(function).unwrap_or(""),
        };
        return SpecError::new(kind, key.span);
    }
    let span = match named_param(&error) {
        Some(p) => match args.iter().find(|a| a.0 == p) {
            Some(a) => a.2.span,
            None if matches!(error, SchedError::MissingParameter { .. }) => call.close,
            None => call.name_span,
        },
        None => call.name_span,
    };
    SpecError::new(SpecErrorKind::Invalid { scheduler: kind.to_string(), error }, span)
}

/// The key node at `position` (of the distinct keys) of dict `item` of the list argument
/// `param`.
fn dict_key<'n>(
    args: &[&(String, Span, &'n Node)],
    param: &str,
    item: usize,
    position: usize,
) -> Option<&'n Node> {
    let list = args.iter().find(|a| a.0 == param)?.2;
    let Expr::List(items) = &list.expr else { return None };
    let Expr::Dict(entries) = &items.get(item)?.expr else { return None };
    let (first, _) = *super::dict::distinct(entries).get(position)?;
    Some(&entries[first].0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is the assertion
    use super::*;
    use crate::spec::parse::parse;

    fn run(text: &str, epochs: usize) -> Result<Vec<f64>, SpecError> {
        let mut groups = [ParamGroup::new(0.1)];
        let mut s = build(&parse(text)?, SequentialLrInit::default(), &mut groups)?;
        let mut out = Vec::new();
        for _ in 0..epochs {
            out.push(groups[0].lr);
            s.step(&mut groups).unwrap();
        }
        Ok(out)
    }

    /// The same schedule built directly with sched-core's kwargs builder.
    fn direct(kind: &str, kwargs: &[(&str, Value<'_>)], epochs: usize) -> Vec<f64> {
        let mut groups = [ParamGroup::new(0.1)];
        let mut s = spec::build(kind, kwargs, &mut groups).unwrap();
        let mut out = Vec::new();
        for _ in 0..epochs {
            out.push(groups[0].lr);
            s.step(&mut groups).unwrap();
        }
        out
    }

    fn err(text: &str) -> SpecError {
        let mut groups = [ParamGroup::new(0.1)];
        match parse(text) {
            Ok(n) => build(&n, SequentialLrInit::default(), &mut groups).expect_err(text),
            Err(e) => e,
        }
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn leaves_match_sched_core() {
        let a = run("StepLR(step_size=10, gamma=0.1)", 30).unwrap();
        assert_eq!(
            bits(&a),
            bits(&direct(
                "StepLR",
                &[("step_size", Value::Int(10)), ("gamma", Value::Float(0.1))],
                30
            ))
        );
        let a = run("StepLR(optimizer, 10, 0.5)", 30).unwrap();
        let b = run("StepLR(optimizer=opt, step_size=10, gamma=0.5)", 30).unwrap();
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(
            bits(&a),
            bits(&direct(
                "StepLR",
                &[("step_size", Value::Int(10)), ("gamma", Value::Float(0.5))],
                30
            ))
        );
        let a = run("MultiStepLR(milestones=[3, 7], gamma=1e-1)", 10).unwrap();
        let ms = [Value::Int(3), Value::Int(7)];
        assert_eq!(
            bits(&a),
            bits(&direct(
                "MultiStepLR",
                &[("milestones", Value::List(&ms)), ("gamma", Value::Float(0.1))],
                10
            ))
        );
        let a = run("LambdaLR(lr_lambda=lambda epoch: 0.95 ** epoch)", 10).unwrap();
        assert_eq!(
            bits(&a),
            bits(&direct(
                "LambdaLR",
                &[("lr_lambda", Value::Lambda(sched_core::LrLambda::Pow(0.95)))],
                10
            ))
        );
        let a = run(
            "OneCycleLR(max_lr=1.0, total_steps=20, anneal_strategy='linear', three_phase=True)",
            20,
        )
        .unwrap();
        let kw = [
            ("max_lr", Value::Float(1.0)),
            ("total_steps", Value::Int(20)),
            ("anneal_strategy", Value::Str("linear")),
            ("three_phase", Value::Bool(true)),
        ];
        assert_eq!(bits(&a), bits(&direct("OneCycleLR", &kw, 20)));
        let a = run("CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=None, mode='triangular2')", 20).unwrap();
        assert_eq!(a[4], 0.1);
        assert!(run("CosineAnnealingWarmRestarts(T_0=5, T_mult=2, eta_min=-0.0)", 20).is_ok());
        assert!(run("lr_scheduler.PolynomialLR(total_iters=4, power=2.0)", 8).is_ok());
    }

    #[test]
    fn composites_match_sched_core() {
        let a = run("SequentialLR([LinearLR(start_factor=0.1, total_iters=5), CosineAnnealingLR(T_max=25)], milestones=[5])", 30).unwrap();
        let mut groups = [ParamGroup::new(0.1)];
        let c1 = spec::build(
            "LinearLR",
            &[("start_factor", Value::Float(0.1)), ("total_iters", Value::Int(5))],
            &mut groups,
        )
        .unwrap();
        let c2 =
            spec::build("CosineAnnealingLR", &[("T_max", Value::Int(25))], &mut groups).unwrap();
        let ms = [Value::Int(5)];
        let mut s = spec::build_sequential(
            vec![c1, c2].leak(),
            &[("milestones", Value::List(&ms))],
            &mut groups,
        )
        .unwrap();
        for (e, lr) in a.iter().enumerate() {
            assert_eq!(lr.to_bits(), groups[0].lr.to_bits(), "epoch {e}");
            s.step(&mut groups).unwrap();
        }
        let a = run("ChainedScheduler(schedulers=[ConstantLR(factor=0.5, total_iters=2), ExponentialLR(gamma=0.9)])", 5).unwrap();
        assert_eq!(a[0], 0.1 * 0.5);
    }

    #[test]
    fn compound_steps_every_part_or_the_plan() {
        let text = "Compound([StepLR(step_size=2), ReduceLROnPlateau(patience=0)], step_plan=[[0], [1], [0, 1]])";
        let mut groups = [ParamGroup::new(1.0)];
        let mut s = build_schedule(&parse(text).unwrap(), SequentialLrInit::default(), &mut groups)
            .unwrap();
        assert_eq!(s.kind(), "Compound");
        assert!(s.needs_metric());
        s.step(0, Some(1.0), &mut groups).unwrap(); // StepLR: epoch 1, no decay yet
        assert_eq!(groups[0].lr, 1.0);
        s.step(1, Some(1.0), &mut groups).unwrap(); // plateau: first metric is the best
        assert_eq!(groups[0].lr, 1.0);
        s.step(2, Some(1.0), &mut groups).unwrap(); // StepLR epoch 2: x0.1, plateau: no improvement, x0.1
        assert!((groups[0].lr - 0.01).abs() < 1e-15, "{}", groups[0].lr);
        assert!(s.step(3, Some(1.0), &mut groups).is_err()); // the plan has 3 entries
        let bad = "Compound([StepLR(step_size=2)], step_plan=[[1]])";
        let e = build_schedule(&parse(bad).unwrap(), SequentialLrInit::default(), &mut groups)
            .unwrap_err();
        assert_eq!(e.span.start, bad.find("[1]").unwrap() + 1);
        let nested = "SequentialLR([Compound([StepLR(step_size=2)])], milestones=[])";
        let e = build_schedule(&parse(nested).unwrap(), SequentialLrInit::default(), &mut groups)
            .unwrap_err();
        assert_eq!(e.span.start, 14);
    }

    #[test]
    fn errors_name_the_parameter_and_point_at_it() {
        let text = "StepLR(step_size=0)";
        let e = err(text);
        assert_eq!(e.sched_error(), Some(SchedError::ZeroPeriod { param: "step_size" }));
        assert_eq!(e.span.start, text.find('0').unwrap());
        assert!(e.to_string().contains("step_size"));

        let text = "StepLR(step_size=3, gama=0.5)";
        let e = err(text);
        assert_eq!(e.span.start, text.find("gama").unwrap());
        assert!(e.to_string().contains("`gama` is not a parameter of StepLR"), "{e}");

        let text = "CosineAnnealingLR(T_max=2.5)";
        let e = err(text);
        assert!(matches!(e.sched_error(), Some(SchedError::NotAnInteger { param: "T_max", .. })));
        assert_eq!(e.span.start, text.find("2.5").unwrap());

        let text = "ExponentialLR()";
        let e = err(text);
        assert_eq!(e.sched_error(), Some(SchedError::MissingParameter { param: "gamma" }));
        assert_eq!(e.span.start, text.len() - 1);

        let text = "SequentialLR([StepLR(step_size=3), ExponentialLR(gamma=0.9, mode='x')], milestones=[3])";
        let e = err(text);
        assert_eq!(e.span.start, text.find("mode").unwrap());

        let text =
            "SequentialLR([StepLR(step_size=3), ExponentialLR(gamma=0.9)], milestones=[3, 4])";
        let e = err(text);
        assert!(matches!(e.sched_error(), Some(SchedError::MilestoneCount { .. })));
        assert_eq!(e.span.start, text.find("[3, 4]").unwrap());

        let text = "StepLR(step_sz=3)";
        let e = err(text);
        assert_eq!(e.span.start, 7);
        assert!(e.to_string().contains("did you mean `step_size`?"), "{e}");

        let text = "CyclicLR(base_lr=0.01, max_lr=0.1, scale_fn=lambda x: 1.0)";
        assert_eq!(err(text).kind, SpecErrorKind::CustomScaleFn);
        assert_eq!(err(text).span.start, text.find("lambda").unwrap());
        assert!(run("CyclicLR(base_lr=0.01, max_lr=0.1, scale_fn=None)", 3).is_ok());

        let text = "StepLR(step_size=3, step_size=4)";
        assert_eq!(err(text).span.start, 20);
        let text = "StepLR(gamma=0.5, 3)";
        assert_eq!(err(text).kind, SpecErrorKind::PositionalAfterKeyword);
        let text = "StepLR(3, 0.1, -1, 7)";
        assert_eq!(err(text).span.start, 19);
        let text = "StepLr(step_size=3)";
        assert!(matches!(err(text).kind, SpecErrorKind::UnknownScheduler { .. }));
        let text = "StepLR(step_size=n)";
        assert_eq!(err(text).span.start, 17);
        let text = "LambdaLR(lr_lambda=sqrt(2))";
        assert_eq!(err(text).span.start, 19);
        let text = "ChainedScheduler(StepLR(step_size=3))";
        assert!(matches!(err(text).kind, SpecErrorKind::BadSchedulers { .. }));
        let text = "SequentialLR([ReduceLROnPlateau(), StepLR(step_size=2)], milestones=[2])";
        assert!(err(text).sched_error().is_some());
    }
}
