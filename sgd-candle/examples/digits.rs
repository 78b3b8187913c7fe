//! The bundled handwritten digits (UCI, 1797 8x8 images, CC BY 4.0; `lrkit/data/README.md`)
//! learnt by a 64-128-10 MLP in candle, optimised by sgd-candle: momentum SGD in two parameter
//! groups (weights with weight decay, biases without) and PyTorch's warmup + cosine schedule,
//! `SequentialLR([LinearLR(start_factor=0.1, total_iters=3), CosineAnnealingLR(T_max=27)],
//! milestones=[3])`, stepped once per epoch.
//!
//! ```text
//! cargo run --release -p sgd-candle --example digits [-- --device cpu|cuda] [--epochs N]
//! ```
//! The last line is `digits: validation accuracy <A>% after <E> epochs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// an example: a failure ends it with its message
// An example: sample counts and 24-bit random integers (below 2^24) as f32 are exact.
#![allow(clippy::cast_precision_loss)]

use std::io::Read;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::Optimizer;
use sched_core::{
    CosineAnnealingLr, CosineAnnealingLrConfig, LinearLr, LinearLrConfig, ParamGroup, Scheduler,
    SequentialLr,
};
use sgd_candle::{CandleSgd, ScheduleEvery, VarGroup};
use sgd_cpu::SgdConfig;

const GZ: &[u8] = include_bytes!("../../lrkit/data/digits.csv.gz");

/// SplitMix64: the split, the initialisation and the shuffles, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self, bound: f32) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * bound
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = usize::try_from(self.next() % (i as u64 + 1)).unwrap();
            v.swap(i, j);
        }
    }
}

/// Pixels scaled to [0, 1] and labels.
fn load() -> (Vec<f32>, Vec<u32>) {
    let mut text = String::new();
    flate2::read::GzDecoder::new(GZ).read_to_string(&mut text).unwrap();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<f32> = line.split(',').map(|f| f.trim().parse().unwrap()).collect();
        x.extend(fields[..64].iter().map(|p| p / 16.0));
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a label, 0..=9
        y.push(fields[64] as u32);
    }
    (x, y)
}

/// `nn.Linear(fan_in, fan_out)`'s initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
fn linear(rng: &mut Rng, fan_in: usize, fan_out: usize, dev: &Device) -> (Var, Var) {
    let bound = 1.0 / (fan_in as f32).sqrt();
    let w: Vec<f32> = (0..fan_in * fan_out).map(|_| rng.uniform(bound)).collect();
    let b: Vec<f32> = (0..fan_out).map(|_| rng.uniform(bound)).collect();
    (
        Var::from_slice(&w, (fan_out, fan_in), dev).unwrap(),
        Var::from_slice(&b, fan_out, dev).unwrap(),
    )
}

fn forward(x: &Tensor, l1: &(Var, Var), l2: &(Var, Var)) -> candle_core::Result<Tensor> {
    let h = x.matmul(&l1.0.t()?)?.broadcast_add(&l1.1)?.relu()?;
    h.matmul(&l2.0.t()?)?.broadcast_add(&l2.1)
}

/// The warmup + cosine schedule; its children live in `children`.
fn warmup_cosine<'a>(
    children: &'a mut Option<[Scheduler<'a>; 2]>,
    epochs: u64,
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'a>, sched_core::SchedError> {
    let warmup = LinearLr::new(
        LinearLrConfig { start_factor: 0.1, total_iters: 3, ..LinearLrConfig::default() },
        groups,
    )?;
    let cosine = CosineAnnealingLr::new(CosineAnnealingLrConfig::new(epochs - 3), groups)?;
    let children = children.insert([Scheduler::Linear(warmup), Scheduler::CosineAnnealing(cosine)]);
    Ok(Scheduler::Sequential(SequentialLr::new(children, &[3], -1, groups)?))
}

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let device = match value("--device").map(String::as_str) {
        None | Some("cpu") => Device::Cpu,
        Some("cuda") => Device::new_cuda(0)?,
        Some(other) => return Err(format!("--device {other}: expected cpu or cuda").into()),
    };
    let epochs: u64 = value("--epochs").map_or(Ok(30), |e| e.parse())?;
    if epochs < 4 {
        return Err("--epochs must be at least 4 (3 epochs of warmup)".into());
    }

    let (x, y) = load();
    let n = y.len();
    let mut rng = Rng(0);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let n_val = n / 5;
    let gather = |idx: &[usize]| -> candle_core::Result<(Tensor, Tensor)> {
        let xs: Vec<f32> =
            idx.iter().flat_map(|&i| x[i * 64..(i + 1) * 64].iter().copied()).collect();
        let ys: Vec<u32> = idx.iter().map(|&i| y[i]).collect();
        Ok((
            Tensor::from_vec(xs, (idx.len(), 64), &device)?,
            Tensor::from_vec(ys, idx.len(), &device)?,
        ))
    };
    let (val_idx, train_idx) = order.split_at(n_val);
    let (val_x, val_y) = gather(val_idx)?;
    let mut train_idx = train_idx.to_vec();

    let l1 = linear(&mut rng, 64, 128, &device);
    let l2 = linear(&mut rng, 128, 10, &device);
    let sgd = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    let groups = vec![
        VarGroup {
            vars: vec![l1.0.clone(), l2.0.clone()],
            config: SgdConfig { weight_decay: 5e-4, ..sgd },
        },
        VarGroup { vars: vec![l1.1.clone(), l2.1.clone()], config: sgd },
    ];
    let mut children = None;
    let mut opt = CandleSgd::new(groups)?
        .with_threads(0)?
        .with_schedule(|g| warmup_cosine(&mut children, epochs, g), ScheduleEvery::Epoch)?;

    let mut accuracy = 0.0;
    for epoch in 1..=epochs {
        let lr = opt.group_lr(0)?;
        rng.shuffle(&mut train_idx);
        let mut loss_sum = 0.0;
        for batch in train_idx.chunks(32) {
            let (bx, by) = gather(batch)?;
            let loss = candle_nn::loss::cross_entropy(&forward(&bx, &l1, &l2)?, &by)?;
            loss_sum += loss.to_scalar::<f32>()? * batch.len() as f32;
            opt.backward_step(&loss)?;
        }
        let logits = forward(&val_x, &l1, &l2)?;
        let val_loss = candle_nn::loss::cross_entropy(&logits, &val_y)?.to_scalar::<f32>()?;
        let correct = logits
            .argmax(D::Minus1)?
            .eq(&val_y)?
            .to_dtype(DType::F32)?
            .sum_all()?
            .to_scalar::<f32>()?;
        accuracy = 100.0 * correct / n_val as f32;
        println!(
            "epoch {epoch}/{epochs}, lr {lr:.6}, train loss {:.4}, val loss {val_loss:.4}, val acc {accuracy:.2}%",
            loss_sum / train_idx.len() as f32
        );
        opt.end_epoch()?;
    }
    println!("digits: validation accuracy {accuracy:.2}% after {epochs} epochs");
    Ok(())
}
