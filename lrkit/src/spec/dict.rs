//! A Python dict literal's keys as Python sees them: a repeated key is one key, at its first
//! position, holding its last value (`{100: 0.5, 100: 0.1}` is `{100: 0.1}`), keys compared
//! by Python's equality (`1 == 1.0 == True`), in time linear in the literal's size.

use std::collections::HashMap;

use super::syntax::{Expr, Node};

/// A key by Python's equality and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key<'a> {
    /// An int, a bool, or an integral float (`1`, `True`, `1.0`: one key).
    Int(i64),
    /// Any other float, by its bits.
    Float(u64),
    Str(&'a str),
    None,
    /// A key no other key equals (NaN, a call, a lambda, an unhashable list).
    Unique(usize),
}

fn key(node: &Node, index: usize) -> Key<'_> {
    match &node.expr {
        Expr::Int(i) => Key::Int(*i),
        Expr::Bool(b) => Key::Int(i64::from(*b)),
        #[allow(clippy::cast_possible_truncation)] // integral and within i64: exact
        Expr::Float(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => Key::Int(*x as i64),
        Expr::Float(x) if !x.is_nan() => Key::Float(x.to_bits()),
        Expr::Str(s) => Key::Str(s),
        Expr::None => Key::None,
        _ => Key::Unique(index),
    }
}

/// The distinct keys of `items` in dict order: for each, the index of its first occurrence
/// (the key Python keeps) and of its last (the value Python keeps).
pub(crate) fn distinct(items: &[(Node, Node)]) -> Vec<(usize, usize)> {
    let mut slot: HashMap<Key<'_>, usize> = HashMap::with_capacity(items.len().min(1 << 16));
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, (k, _)) in items.iter().enumerate() {
        match slot.get(&key(k, i)) {
            Some(&s) => out[s].1 = i,
            None => {
                slot.insert(key(k, i), out.len());
                out.push((i, i));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failure is the assertion
    use super::distinct;
    use crate::spec::parse::parse;
    use crate::spec::syntax::Expr;

    #[test]
    fn repeated_keys_are_one_key_with_the_last_value() {
        let node =
            parse("{1: 'a', 2: 'b', 1.0: 'c', True: 'd', 'x': 'e', 'x': 'f', 0.5: 'g'}").unwrap();
        let Expr::Dict(items) = &node.expr else { panic!("not a dict") };
        assert_eq!(distinct(items), [(0, 3), (1, 1), (4, 5), (6, 6)]);
    }
}
