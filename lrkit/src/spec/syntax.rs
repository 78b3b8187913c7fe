//! The syntax tree of a schedule spec, with the byte span of every part so that errors can
//! point at it.

/// Byte range `start..end` in the spec text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span covering `self` and `other`.
    pub(crate) fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A value with its span.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// The value.
    pub expr: Expr,
    /// Where it is written.
    pub span: Span,
}

/// A Python-like value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// An `int` literal (`10`, `-3`, `1_000`).
    Int(i64),
    /// A `float` literal (`0.1`, `-1e-3`, `5.`).
    Float(f64),
    /// A string literal (`'cos'` or `"cos"`).
    Str(String),
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A list `[a, b, ...]`.
    List(Vec<Node>),
    /// A dict `{key: value, ...}` (optax's `boundaries_and_scales`, `cosine_kwargs`).
    Dict(Vec<(Node, Node)>),
    /// A call `Name(args)`: a scheduler or a learning-rate function.
    Call(Call),
    /// A bare name, such as `optimizer` in `StepLR(optimizer, step_size=3)`.
    Name(String),
    /// A Python `lambda VAR: BODY`, kept as text (see `spec::lambda::from_python`).
    Lambda {
        /// The parameter name.
        var: String,
        /// The body as written.
        body: String,
        /// Where the body is.
        body_span: Span,
    },
}

/// `Name(arg, ..., key=value, ...)`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Call {
    /// The callee as written (`StepLR`, `lr_scheduler.StepLR`, `pow`).
    pub name: String,
    /// Span of the callee.
    pub name_span: Span,
    /// Arguments in order.
    pub args: Vec<Arg>,
    /// Span of the closing parenthesis.
    pub close: Span,
}

impl Call {
    /// The callee without a module path (`torch.optim.lr_scheduler.StepLR` -> `StepLR`).
    pub(crate) fn short_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }
}

/// One argument: positional (`name == None`) or keyword.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Arg {
    /// The keyword and its span, for `key=value`.
    pub name: Option<(String, Span)>,
    /// The value.
    pub value: Node,
}

impl Arg {
    /// Span of the keyword if there is one, else of the value.
    pub(crate) fn key_span(&self) -> Span {
        self.name.as_ref().map_or(self.value.span, |(_, s)| *s)
    }
}

/// The children of a node (list items, call arguments), for the searches below.
fn children(node: &Node) -> Vec<&Node> {
    match &node.expr {
        Expr::List(items) => items.iter().collect(),
        Expr::Dict(items) => items.iter().flat_map(|(k, v)| [k, v]).collect(),
        Expr::Call(c) => c.args.iter().map(|a| &a.value).collect(),
        _ => Vec::new(),
    }
}

/// Span of the first keyword argument (depth first) named one of `names`, key and value.
pub(crate) fn find_keyword(node: &Node, names: &[&str]) -> Option<Span> {
    if let Expr::Call(c) = &node.expr {
        for a in &c.args {
            if let Some((k, ks)) = &a.name
                && names.contains(&k.as_str())
            {
                return Some(ks.to(a.value.span));
            }
        }
    }
    children(node).into_iter().find_map(|n| find_keyword(n, names))
}

/// Span of the first call (depth first) of `name` (without module path).
pub(crate) fn find_call(node: &Node, name: &str) -> Option<Span> {
    match &node.expr {
        Expr::Call(c) if c.short_name() == name => Some(node.span),
        _ => children(node).into_iter().find_map(|n| find_call(n, name)),
    }
}
