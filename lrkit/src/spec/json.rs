//! The JSON `spec` format of the golden vectors (`tests/golden/SPEC.md` §1.2), rendered
//! into the PyTorch notation that [`super::parse`] reads, so that a spec file and a spec
//! typed on the command line go through the same builder and get the same messages.
//!
//! `{"type": "SequentialLR", "kwargs": {"milestones": [3]}, "schedulers": [...]}` becomes
//! `SequentialLR([...], milestones=[3])`; lambda descriptors (`{"kind": "pow", "base":
//! 0.9}`) become `pow(0.9)`, and `{"kind": "expr", "param": "e", "body": "0.9 ** e"}` the
//! Python `lambda e: 0.9 ** e`; `"Compound"` (several schedulers built in order on the same
//! optimizer and stepped together) becomes `Compound([...], step_plan=[...])`. A whole golden
//! case (an object with a `spec` member) is accepted too, and so is a case of the peer
//! families' golden file (`{"library": "optax", "name": "sgdr_schedule", "kwargs": {...}}`,
//! `tests/golden/PEERS.md`), which becomes `optax.sgdr_schedule(...)`: there, an object is a
//! Python dict (`boundaries_and_scales`, `cosine_kwargs` items) and `schedules` is a list of
//! `[name, kwargs]` calls.

use serde_json::{Map, Value};

/// Renders a JSON spec document as PyTorch-style text; errors name the JSON path.
pub(crate) fn render(doc: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(doc).map_err(|e| {
        // The line of the document with a caret under the column serde_json names.
        let line = doc.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
        let shown: String = line.chars().take(200).collect();
        let col = e.column().saturating_sub(1).min(shown.chars().count());
        format!("not valid JSON: {e}\n    {shown}\n    {}^", " ".repeat(col))
    })?;
    let mut out = String::new();
    if let (Some(library), Some(name)) =
        (v.get("library").and_then(Value::as_str), v.get("name").and_then(Value::as_str))
    {
        peer_call(library, name, v.get("kwargs"), "$", &mut out)?;
        return Ok(out);
    }
    let spec = match v.get("spec") {
        Some(s) if v.get("type").is_none() => s,
        _ => &v,
    };
    scheduler(spec, "$", &mut out)?;
    Ok(out)
}

/// `library.name(k=v, ...)` of a peer-family case: objects are dicts, `schedules` holds
/// `[name, kwargs]` calls of the same library.
fn peer_call(
    library: &str,
    name: &str,
    kwargs: Option<&Value>,
    path: &str,
    out: &mut String,
) -> Result<(), String> {
    for part in [library, name] {
        if part.is_empty() || !part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("{path}: {part:?} is not a library or function name"));
        }
    }
    out.push_str(&format!("{library}.{name}("));
    let empty = Map::new();
    let kwargs = match kwargs {
        None => &empty,
        Some(k) => k.as_object().ok_or_else(|| format!("{path}.kwargs: expected an object"))?,
    };
    for (i, (k, v)) in kwargs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("{path}.kwargs: {k:?} is not a keyword"));
        }
        out.push_str(k);
        out.push('=');
        let at = format!("{path}.kwargs.{k}");
        match (k.as_str(), v) {
            ("schedules", Value::Array(calls)) => {
                out.push('[');
                for (j, call) in calls.iter().enumerate() {
                    if j > 0 {
                        out.push_str(", ");
                    }
                    let pair = call.as_array().filter(|p| p.len() == 2);
                    let Some((Some(callee), kw)) = pair.map(|p| (p[0].as_str(), &p[1])) else {
                        return Err(format!("{at}[{j}]: expected [name, kwargs]"));
                    };
                    peer_call(library, callee, Some(kw), &format!("{at}[{j}]"), out)?;
                }
                out.push(']');
            }
            _ => value(v, &at, out)?,
        }
    }
    out.push(')');
    Ok(())
}

fn scheduler(v: &Value, path: &str, out: &mut String) -> Result<(), String> {
    let obj = v.as_object().ok_or_else(|| {
        format!("{path}: expected a spec object {{\"type\": ..., \"kwargs\": {{...}}}}")
    })?;
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{path}.type: expected the scheduler class name as a string"))?;
    out.push_str(ty);
    out.push('(');
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !core::mem::take(&mut first) {
            out.push_str(", ");
        }
    };
    if let Some(children) = obj.get("schedulers") {
        let list =
            children.as_array().ok_or_else(|| format!("{path}.schedulers: expected a list"))?;
        sep(out);
        list_of(list, &format!("{path}.schedulers"), out, scheduler)?;
    }
    if let Some(plan) = obj.get("step_plan") {
        sep(out);
        out.push_str("step_plan=");
        value(plan, &format!("{path}.step_plan"), out)?;
    }
    let empty = Map::new();
    let kwargs = match obj.get("kwargs") {
        None => &empty,
        Some(k) => k.as_object().ok_or_else(|| format!("{path}.kwargs: expected an object"))?,
    };
    for (k, v) in kwargs {
        sep(out);
        // The golden error cases spell a non-callable `lr_lambda` as `lr_lambda_raw`.
        let k = if k == "lr_lambda_raw" { "lr_lambda" } else { k };
        if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || k.is_empty() {
            return Err(format!("{path}.kwargs: {k:?} is not a keyword"));
        }
        out.push_str(k);
        out.push('=');
        value(v, &format!("{path}.kwargs.{k}"), out)?;
    }
    out.push(')');
    Ok(())
}

fn value(v: &Value, path: &str, out: &mut String) -> Result<(), String> {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => out.push_str(&i.to_string()),
            // `{:?}` is the shortest round-trip form and always reads back as a float.
            (None, Some(x)) if n.is_f64() => out.push_str(&format!("{x:?}")),
            _ => return Err(format!("{path}: integer {n} is out of range")),
        },
        Value::String(s) => {
            out.push('\'');
            for c in s.chars() {
                if matches!(c, '\\' | '\'') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('\'');
        }
        Value::Array(items) => list_of(items, path, out, value)?,
        Value::Object(o) if o.contains_key("kind") => lambda(o, path, out)?,
        Value::Object(o) => dict(o, path, out)?,
    }
    Ok(())
}

/// A Python dict: keys that read as integers stay integers (`{100: 0.5}`), others are
/// strings.
fn dict(o: &Map<String, Value>, path: &str, out: &mut String) -> Result<(), String> {
    out.push('{');
    for (i, (k, v)) in o.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match k.parse::<i64>() {
            Ok(n) => out.push_str(&n.to_string()),
            Err(_) => value(&Value::String(k.clone()), path, out)?,
        }
        out.push_str(": ");
        value(v, &format!("{path}.{k}"), out)?;
    }
    out.push('}');
    Ok(())
}

/// A lambda descriptor `{"kind": ..., fields}` as a call.
/// `[a, b, ...]`, each item written by `item` with its path `{path}[i]`.
fn list_of(
    items: &[Value],
    path: &str,
    out: &mut String,
    item: fn(&Value, &str, &mut String) -> Result<(), String>,
) -> Result<(), String> {
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item(v, &format!("{path}[{i}]"), out)?;
    }
    out.push(']');
    Ok(())
}

fn lambda(o: &Map<String, Value>, path: &str, out: &mut String) -> Result<(), String> {
    let kind = o.get("kind").and_then(Value::as_str).ok_or_else(|| {
        format!("{path}: expected a learning-rate function descriptor {{\"kind\": \"pow\", \"base\": 0.9}}")
    })?;
    if kind == "expr" {
        return python_lambda(o, path, out);
    }
    let (name, fields): (&str, &[&str]) = match kind {
        "constant" => ("constant", &["value"]),
        "pow" => ("pow", &["base"]),
        "floordiv" => ("floordiv", &["divisor"]),
        "linear_warmup" => ("warmup", &["warmup"]),
        "step_pow" => ("step_pow", &["gamma", "every"]),
        other => {
            return Err(format!(
                "{path}.kind: unknown learning-rate function {other:?} (expected \"expr\", \"constant\", \"pow\", \"floordiv\", \"linear_warmup\" or \"step_pow\")"
            ));
        }
    };
    out.push_str(name);
    out.push('(');
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let v = o.get(*f).ok_or_else(|| format!("{path}: {kind} needs \"{f}\""))?;
        value(v, &format!("{path}.{f}"), out)?;
    }
    out.push(')');
    Ok(())
}

/// `{"kind": "expr", "param": "e", "body": "..."}` as `lambda e: ...`. The body is compiled
/// here, so that an error names its JSON path and points into the body as written.
fn python_lambda(o: &Map<String, Value>, path: &str, out: &mut String) -> Result<(), String> {
    let text = |field: &str| {
        o.get(field).and_then(Value::as_str).ok_or_else(|| {
            format!("{path}.{field}: expected a string (an expr lambda is {{\"kind\": \"expr\", \"param\": \"e\", \"body\": \"0.95 ** e\"}})")
        })
    };
    let (param, body) = (text("param")?, text("body")?);
    if let Some(extra) = o.keys().find(|k| !matches!(k.as_str(), "kind" | "param" | "body")) {
        return Err(format!("{path}.{extra}: not a field of an expr lambda (kind, param, body)"));
    }
    if let Err(e) = sched_core::LrLambda::python(param, body) {
        if e.kind == sched_core::python::SyntaxErrorKind::InvalidParameter {
            return Err(format!("{path}.param: {param:?}: {}", e.kind));
        }
        let shown: String = body.chars().take(200).collect();
        let col = body.get(..e.start).map_or(0, |b| b.chars().count()).min(shown.chars().count());
        let width = body.get(e.start..e.end).map_or(1, |b| b.chars().count().max(1));
        return Err(format!(
            "{path}.body: {}\n    {shown}\n    {}^{}",
            e.kind,
            " ".repeat(col),
            "~".repeat(width - 1)
        ));
    }
    out.push_str(&format!("lambda {param}: {body}"));
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is the assertion
    use super::*;

    #[test]
    fn renders_leaves_composites_and_lambdas() {
        let r = render(
            r#"{"type": "StepLR", "kwargs": {"b": true, "gamma": 0.1, "m": "exp_range", "step_size": 3, "x": null}}"#,
        );
        // Keys in sorted order: serde_json keeps them sorted unless `preserve_order` is on.
        assert_eq!(r.unwrap(), "StepLR(b=True, gamma=0.1, m='exp_range', step_size=3, x=None)");
        let r = render(
            r#"{"type": "SequentialLR", "kwargs": {"milestones": [3]}, "schedulers": [
                {"type": "ExponentialLR", "kwargs": {"gamma": 0.8}},
                {"type": "LambdaLR", "kwargs": {"lr_lambda": [{"kind": "pow", "base": 0.9, "expr": "0.9 ** epoch"},
                                                             {"kind": "step_pow", "gamma": 0.5, "every": 2}]}}]}"#,
        );
        assert_eq!(
            r.unwrap(),
            "SequentialLR([ExponentialLR(gamma=0.8), LambdaLR(lr_lambda=[pow(0.9), step_pow(0.5, 2)])], milestones=[3])"
        );
        let r = render(
            r#"{"id": "x", "spec": {"type": "Compound", "schedulers": [{"type": "ConstantLR", "kwargs": {"eta_min": 1e-10, "f": 1.0}}]}}"#,
        );
        assert_eq!(r.unwrap(), "Compound([ConstantLR(eta_min=1e-10, f=1.0)])");
        let r = render(
            r#"{"type": "Compound", "step_plan": [[0], []], "schedulers": [{"type": "StepLR"}]}"#,
        );
        assert_eq!(r.unwrap(), "Compound([StepLR()], step_plan=[[0], []])");
    }

    #[test]
    fn renders_peer_family_cases() {
        let r = render(
            r#"{"id": "o", "library": "optax", "name": "join_schedules", "kwargs": {"boundaries": [3],
                "schedules": [["linear_schedule", {"init_value": 0.0, "end_value": 0.1, "transition_steps": 3}],
                              ["piecewise_constant_schedule", {"init_value": 0.1, "boundaries_and_scales": {"65": 0.5}}]]}}"#,
        );
        assert_eq!(
            r.unwrap(),
            "optax.join_schedules(boundaries=[3], schedules=[optax.linear_schedule(end_value=0.1, init_value=0.0, transition_steps=3), optax.piecewise_constant_schedule(boundaries_and_scales={65: 0.5}, init_value=0.1)])"
        );
        let r = render(
            r#"{"library": "optax", "name": "sgdr_schedule", "kwargs": {"cosine_kwargs": [{"decay_steps": 10, "peak_value": 1.0}]}}"#,
        );
        assert_eq!(
            r.unwrap(),
            "optax.sgdr_schedule(cosine_kwargs=[{'decay_steps': 10, 'peak_value': 1.0}])"
        );
        let r = render(
            r#"{"library": "timm", "name": "CosineLRScheduler", "kwargs": {"t_initial": 10}}"#,
        );
        assert_eq!(r.unwrap(), "timm.CosineLRScheduler(t_initial=10)");
        let r = render(r#"{"library": "timm", "name": "x y", "kwargs": {}}"#);
        assert!(r.unwrap_err().contains("not a library or function name"));
    }

    #[test]
    fn renders_expr_lambdas() {
        let r = render(
            r#"{"type": "LambdaLR", "kwargs": {"lr_lambda": {"kind": "expr", "param": "step", "body": "min((step + 1) / 5, 1.0)"}}}"#,
        );
        assert_eq!(r.unwrap(), "LambdaLR(lr_lambda=lambda step: min((step + 1) / 5, 1.0))");
        let e = render(
            r#"{"type": "LambdaLR", "kwargs": {"lr_lambda": {"kind": "expr", "param": "e", "body": "e +* 2"}}}"#,
        )
        .unwrap_err();
        assert!(e.starts_with("$.kwargs.lr_lambda.body: "), "{e}");
        assert!(e.ends_with("\n    e +* 2\n       ^"), "{e}");
        let e = render(
            r#"{"type": "LambdaLR", "kwargs": {"lr_lambda": {"kind": "expr", "param": "lambda", "body": "1"}}}"#,
        )
        .unwrap_err();
        assert!(e.starts_with("$.kwargs.lr_lambda.param: \"lambda\""), "{e}");
        let e = render(
            r#"{"type": "LambdaLR", "kwargs": {"lr_lambda": {"kind": "expr", "body": "1"}}}"#,
        )
        .unwrap_err();
        assert!(e.starts_with("$.kwargs.lr_lambda.param: expected a string"), "{e}");
        let e = render(
            r#"{"type": "LambdaLR", "kwargs": {"lr_lambda": {"kind": "expr", "param": "e", "body": "1", "base": 2}}}"#,
        )
        .unwrap_err();
        assert!(e.starts_with("$.kwargs.lr_lambda.base: not a field"), "{e}");
    }

    #[test]
    fn errors_name_the_path() {
        assert!(render("{").unwrap_err().contains("not valid JSON"));
        let e = render(r#"{"type": "LambdaLR", "kwargs": {"lr_lambda": {"kind": "sqrt"}}}"#)
            .unwrap_err();
        assert!(e.starts_with("$.kwargs.lr_lambda.kind"), "{e}");
        let e = render(r#"{"type": "SequentialLR", "schedulers": [{"kwargs": {}}]}"#).unwrap_err();
        assert!(e.starts_with("$.schedulers[0].type"), "{e}");
    }
}
