//! The golden vectors of `tests/golden/sgd_precision_*.json` (format: `tests/golden/PRECISION.md`)
//! parsed strictly (unknown or missing fields fail), shared by the parity tests of every
//! backend that runs them: sgd-cpu's typed step (`sgd_precision_golden`) and sgd-cuda's kernel
//! compiled for the host (`cuda_precision_golden`).
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // test support: a bad file is a failed test.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sgd_cpu::{Bf16, Dtype, F16, SgdConfig, TensorMut, TensorRef};

/// Fails on a field not in `required` or `optional`, or a missing `required` one.
pub fn strict_keys(obj: &Map<String, Value>, required: &[&str], optional: &[&str], ctx: &str) {
    for key in obj.keys() {
        assert!(
            required.contains(&key.as_str()) || optional.contains(&key.as_str()),
            "{ctx}: unknown field `{key}`"
        );
    }
    for key in required {
        assert!(obj.contains_key(*key), "{ctx}: missing field `{key}`");
    }
}

/// `v` as an object.
pub fn obj<'a>(v: &'a Value, ctx: &str) -> &'a Map<String, Value> {
    v.as_object().unwrap_or_else(|| panic!("{ctx}: expected an object"))
}

/// `v` as an array.
pub fn arr<'a>(v: &'a Value, ctx: &str) -> &'a Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("{ctx}: expected an array"))
}

/// `v` as a number.
pub fn num(v: &Value, ctx: &str) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{ctx}: expected a number"))
}

/// `v` as an index.
pub fn index(v: &Value, ctx: &str) -> usize {
    usize::try_from(v.as_u64().unwrap_or_else(|| panic!("{ctx}: expected an index"))).unwrap()
}

/// A tensor's elements as bit patterns (16, 32 or 64 bits each).
#[derive(Clone, Debug, PartialEq)]
pub struct Bits {
    /// The dtype.
    pub dtype: Dtype,
    /// One pattern per element.
    pub bits: Vec<u64>,
}

impl Bits {
    /// A tensor of the file (`{bits, dec?}`).
    pub fn parse(v: &Value, dtype: Dtype, ctx: &str) -> Bits {
        let o = obj(v, ctx);
        strict_keys(o, &["bits"], &["dec"], ctx);
        let hex = o["bits"].as_str().unwrap();
        let digits = 2 * dtype.size();
        assert_eq!(hex.len() % digits, 0, "{ctx}: bits length");
        let n = hex.len() / digits;
        if let Some(dec) = o.get("dec") {
            assert_eq!(arr(dec, ctx).len(), n, "{ctx}: dec length");
        }
        let bits = (0..n)
            .map(|i| u64::from_str_radix(&hex[digits * i..digits * (i + 1)], 16).unwrap())
            .collect();
        Bits { dtype, bits }
    }

    /// Whether pattern `b` is a NaN of this dtype.
    pub fn is_nan(&self, b: u64) -> bool {
        match self.dtype {
            Dtype::F64 => f64::from_bits(b).is_nan(),
            Dtype::F32 => (b & 0x7fff_ffff) > 0x7f80_0000,
            Dtype::Bf16 => (b & 0x7fff) > 0x7f80,
            _ => (b & 0x7fff) > 0x7c00,
        }
    }

    /// `Ok` if every element has the same bits, or both are NaN.
    pub fn check(&self, want: &Bits, what: &str) -> Result<(), String> {
        if self.dtype != want.dtype || self.bits.len() != want.bits.len() {
            return Err(format!(
                "{what}: {:?}[{}] vs {:?}[{}]",
                self.dtype,
                self.bits.len(),
                want.dtype,
                want.bits.len()
            ));
        }
        for (i, (&g, &w)) in self.bits.iter().zip(&want.bits).enumerate() {
            if g != w && !(self.is_nan(g) && self.is_nan(w)) {
                return Err(format!("{what}[{i}]: got {g:#x}, torch {w:#x}"));
            }
        }
        Ok(())
    }
}

/// The storage of one tensor, in its dtype.
#[derive(Clone, Debug)]
pub enum Data {
    /// float32.
    F32(Vec<f32>),
    /// float64.
    F64(Vec<f64>),
    /// bfloat16.
    Bf16(Vec<Bf16>),
    /// float16.
    F16(Vec<F16>),
}

#[allow(clippy::cast_possible_truncation)] // bit patterns of the dtype's width
impl Data {
    /// The values of `b`.
    pub fn from_bits(b: &Bits) -> Data {
        match b.dtype {
            Dtype::F32 => Data::F32(b.bits.iter().map(|&x| f32::from_bits(x as u32)).collect()),
            Dtype::F64 => Data::F64(b.bits.iter().map(|&x| f64::from_bits(x)).collect()),
            Dtype::Bf16 => Data::Bf16(b.bits.iter().map(|&x| Bf16(x as u16)).collect()),
            _ => Data::F16(b.bits.iter().map(|&x| F16(x as u16)).collect()),
        }
    }

    /// `n` zeros.
    pub fn zeros(dtype: Dtype, n: usize) -> Data {
        Data::from_bits(&Bits { dtype, bits: vec![0; n] })
    }

    /// The bit patterns.
    pub fn to_bits(&self) -> Bits {
        match self {
            Data::F32(v) => {
                Bits { dtype: Dtype::F32, bits: v.iter().map(|x| u64::from(x.to_bits())).collect() }
            }
            Data::F64(v) => {
                Bits { dtype: Dtype::F64, bits: v.iter().map(|x| x.to_bits()).collect() }
            }
            Data::Bf16(v) => {
                Bits { dtype: Dtype::Bf16, bits: v.iter().map(|x| u64::from(x.0)).collect() }
            }
            Data::F16(v) => {
                Bits { dtype: Dtype::F16, bits: v.iter().map(|x| u64::from(x.0)).collect() }
            }
        }
    }

    /// A typed view for `sgd_cpu::typed_step`.
    pub fn as_mut(&mut self) -> TensorMut<'_> {
        match self {
            Data::F32(v) => TensorMut::F32(v),
            Data::F64(v) => TensorMut::F64(v),
            Data::Bf16(v) => TensorMut::Bf16(v),
            Data::F16(v) => TensorMut::F16(v),
        }
    }

    /// A typed view for `sgd_cpu::typed_step`.
    pub fn as_ref(&self) -> TensorRef<'_> {
        match self {
            Data::F32(v) => TensorRef::F32(v),
            Data::F64(v) => TensorRef::F64(v),
            Data::Bf16(v) => TensorRef::Bf16(v),
            Data::F16(v) => TensorRef::F16(v),
        }
    }

    /// The exact f32 widening of 16-bit storage (a master copy's initial value).
    pub fn widened(&self) -> Vec<f32> {
        match self {
            Data::Bf16(v) => v.iter().map(|x| sgd_cpu::convert::bf16_to_f32(x.0)).collect(),
            Data::F16(v) => v.iter().map(|x| sgd_cpu::convert::f16_to_f32(x.0)).collect(),
            _ => panic!("a master copy needs bf16/f16 parameters"),
        }
    }
}

/// One step of a case.
pub struct Step {
    /// The lr of each group.
    pub lrs: Vec<f64>,
    /// Whether the step was skipped.
    pub found_inf: bool,
    /// Each tensor's gradient (`None`: no gradient).
    pub grads: Vec<Option<Data>>,
    /// Each parameter after the step.
    pub params_after: Vec<Bits>,
    /// Each momentum buffer after the step (`None`: torch has none yet).
    pub buffers_after: Vec<Option<Bits>>,
    /// Each f32 master after the step (master mode).
    pub masters_after: Option<Vec<Bits>>,
}

/// One case of a file.
pub struct Case {
    /// Its id.
    pub id: String,
    /// The storage dtype.
    pub dtype: Dtype,
    /// Master mode (f32 master weights and buffers).
    pub master: bool,
    /// The groups' options (the lr of each step is in [`Step::lrs`]).
    pub groups: Vec<SgdConfig>,
    /// The group of each tensor (in order).
    pub group_of: Vec<usize>,
    /// Each parameter's initial value.
    pub init: Vec<Data>,
    /// torch's fused grad scale.
    pub grad_scale: Option<f32>,
    /// The steps.
    pub steps: Vec<Step>,
}

fn dtype_of(name: &str, ctx: &str) -> Dtype {
    match name {
        "float64" => Dtype::F64,
        "bfloat16" => Dtype::Bf16,
        "float16" => Dtype::F16,
        other => panic!("{ctx}: unknown dtype {other}"),
    }
}

/// A case of the file, checked field by field.
pub fn parse_case(c: &Value) -> Case {
    let o = obj(c, "case");
    let id = o.get("id").and_then(Value::as_str).unwrap_or("?").to_owned();
    let ctx = id.as_str();
    strict_keys(
        o,
        &[
            "id",
            "dtype",
            "mode",
            "reference",
            "seed",
            "num_steps",
            "param_scale",
            "groups",
            "lr_decay_per_step",
            "special_values",
            "params",
            "steps",
            "checks",
        ],
        &["grad_scale", "found_inf_steps", "no_grad"],
        ctx,
    );
    let dtype = dtype_of(o["dtype"].as_str().unwrap(), ctx);
    let master = match o["mode"].as_str().unwrap() {
        "native" => false,
        "master" => true,
        other => panic!("{ctx}: unknown mode {other}"),
    };
    assert!(!master || dtype.is_half(), "{ctx}: master mode needs bf16/f16");
    let groups: Vec<SgdConfig> = arr(&o["groups"], ctx)
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let gctx = format!("{ctx} group {i}");
            let go = obj(g, &gctx);
            strict_keys(
                go,
                &["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "shapes"],
                &[],
                &gctx,
            );
            SgdConfig {
                lr: num(&go["lr"], &gctx),
                momentum: num(&go["momentum"], &gctx),
                dampening: num(&go["dampening"], &gctx),
                weight_decay: num(&go["weight_decay"], &gctx),
                nesterov: go["nesterov"].as_bool().unwrap(),
                maximize: go["maximize"].as_bool().unwrap(),
            }
        })
        .collect();
    let mut group_of = Vec::new();
    let mut init = Vec::new();
    for (i, p) in arr(&o["params"], ctx).iter().enumerate() {
        let pctx = format!("{ctx} param {i}");
        let po = obj(p, &pctx);
        strict_keys(po, &["group", "shape", "numel", "init"], &[], &pctx);
        let numel = index(&po["numel"], &pctx);
        let shape: usize = arr(&po["shape"], &pctx).iter().map(|d| index(d, &pctx)).product();
        assert_eq!(shape, numel, "{pctx}: numel vs shape");
        let t = Bits::parse(&po["init"], dtype, &pctx);
        assert_eq!(t.bits.len(), numel, "{pctx}: init length");
        let g = index(&po["group"], &pctx);
        assert!(g < groups.len() && group_of.last().is_none_or(|&l| l <= g), "{pctx}: group {g}");
        group_of.push(g);
        init.push(Data::from_bits(&t));
    }
    let buf_dtype = if master { Dtype::F32 } else { dtype };
    let opt = |v: &Value, d: Dtype, c: &str| (!v.is_null()).then(|| Bits::parse(v, d, c));
    let mut steps = Vec::new();
    for (t, s) in arr(&o["steps"], ctx).iter().enumerate() {
        let sctx = format!("{ctx} step {t}");
        let so = obj(s, &sctx);
        strict_keys(
            so,
            &["lr", "lr_bits", "found_inf", "grads", "params_after", "momentum_buffer_after"],
            &["master_after"],
            &sctx,
        );
        assert_eq!(master, so.contains_key("master_after"), "{sctx}: master_after iff master mode");
        let lrs: Vec<f64> = arr(&so["lr_bits"], &sctx)
            .iter()
            .map(|b| f64::from_bits(u64::from_str_radix(b.as_str().unwrap(), 16).unwrap()))
            .collect();
        for (lr, dec) in lrs.iter().zip(arr(&so["lr"], &sctx)) {
            assert_eq!(lr.to_bits(), num(dec, &sctx).to_bits(), "{sctx}: lr vs lr_bits");
        }
        assert_eq!(lrs.len(), groups.len(), "{sctx}: one lr per group");
        let tensors = |key: &str, d: Dtype| -> Vec<Option<Bits>> {
            let list = arr(&so[key], &sctx);
            assert_eq!(list.len(), init.len(), "{sctx}: {key} per tensor");
            list.iter().enumerate().map(|(i, v)| opt(v, d, &format!("{sctx} {key}[{i}]"))).collect()
        };
        let all = |v: Vec<Option<Bits>>, key: &str| -> Vec<Bits> {
            v.into_iter().map(|b| b.unwrap_or_else(|| panic!("{sctx}: null in {key}"))).collect()
        };
        steps.push(Step {
            lrs,
            found_inf: so["found_inf"].as_bool().unwrap(),
            grads: tensors("grads", dtype)
                .into_iter()
                .map(|g| g.as_ref().map(Data::from_bits))
                .collect(),
            params_after: all(tensors("params_after", dtype), "params_after"),
            buffers_after: tensors("momentum_buffer_after", buf_dtype),
            masters_after: master.then(|| all(tensors("master_after", Dtype::F32), "master_after")),
        });
    }
    assert_eq!(steps.len(), index(&o["num_steps"], ctx), "{ctx}: num_steps");
    #[allow(clippy::cast_possible_truncation)] // torch's grad scales are f32 values
    let grad_scale = o.get("grad_scale").filter(|v| !v.is_null()).map(|v| num(v, ctx) as f32);
    Case { id, dtype, master, groups, group_of, init, grad_scale, steps }
}

/// Checks every case of the golden file `name` (its `text`) with `run`, which returns the
/// mismatches of one case (none: bitwise), prints `golden <name>: <N> cases, <B> bitwise<what>
/// (float64 <a>/<n>, bfloat16 <b>/<m>, float16 <c>/<k>)`, and panics listing every mismatch.
/// Returns (cases, bitwise cases).
pub fn check_file(
    name: &str,
    text: &str,
    what: &str,
    mut run: impl FnMut(&Case) -> Vec<String>,
) -> (usize, usize) {
    let root: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let o = obj(&root, name);
    strict_keys(o, &["meta", "cases"], &["summary"], name);
    let cases = arr(&o["cases"], name);
    // (cases, bitwise) per dtype.
    let mut per: BTreeMap<&str, (usize, usize)> =
        ["float64", "bfloat16", "float16"].into_iter().map(|d| (d, (0, 0))).collect();
    let mut failures = Vec::new();
    for c in cases {
        let case = parse_case(c);
        let errors = run(&case);
        let entry = per.get_mut(case.dtype.name()).unwrap();
        entry.0 += 1;
        entry.1 += usize::from(errors.is_empty());
        failures.extend(errors);
    }
    let bitwise: usize = per.values().map(|v| v.1).sum();
    let f = |d: &str| format!("{}/{}", per[d].1, per[d].0);
    println!(
        "golden {name}: {} cases, {bitwise} bitwise{what} (float64 {}, bfloat16 {}, float16 {})",
        cases.len(),
        f("float64"),
        f("bfloat16"),
        f("float16")
    );
    assert!(failures.is_empty(), "{name}: {} mismatches:\n{}", failures.len(), failures.join("\n"));
    (cases.len(), bitwise)
}
