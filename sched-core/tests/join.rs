//! `Join` is SequentialLR's closed form: bitwise the same values as a two-child `SequentialLr`
//! behind `Scheduler`, in f64 and f32, for random children, milestones and groups.
#![allow(clippy::unwrap_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use proptest::prelude::*;
use sched_core::*;

proptest! {
    #[test]
    fn join_equals_sequential_lr(
        lrs in prop::collection::vec(1e-5f64..1.0, 1..4),
        start in 0.01f64..1.0,
        total in 0u64..12,
        t_max in 1u64..60,
        eta_min in 0.0f64..1e-3,
        step_size in 1u64..9,
        gamma in 0.05f64..1.0,
        // A milestone at 0 too: PyTorch >= 2.13 (the default) starts the second child there.
        boundary in 0u64..20,
        cosine_first in any::<bool>(),
    ) {
        let mut groups: Vec<ParamGroup> = lrs.iter().copied().map(ParamGroup::new).collect();
        let linear = LinearLr::new(
            LinearLrConfig { start_factor: start, total_iters: total, ..LinearLrConfig::default() },
            &mut groups,
        ).unwrap();
        let cosine = CosineAnnealingLr::new(
            CosineAnnealingLrConfig { t_max, eta_min, last_epoch: -1 },
            &mut groups,
        ).unwrap();
        let step = StepLr::new(StepLrConfig { step_size, gamma, last_epoch: -1 }, &mut groups).unwrap();
        let (joined, mut children): (Box<dyn ClosedForm>, [Scheduler<'_>; 2]) = if cosine_first {
            (
                Box::new(Join::new(cosine, boundary, step)),
                [Scheduler::CosineAnnealing(cosine), Scheduler::Step(step)],
            )
        } else {
            (
                Box::new(Join::new(linear, boundary, cosine)),
                [Scheduler::Linear(linear), Scheduler::CosineAnnealing(cosine)],
            )
        };
        let sequential =
            Scheduler::Sequential(SequentialLr::new(&mut children, &[boundary], -1, &mut groups).unwrap());
        for g in 0..lrs.len() {
            for e in 0..120 {
                let (want, got) = (sequential.lr_at(g, e).unwrap(), joined.lr_at(g, e).unwrap());
                prop_assert_eq!(want.to_bits(), got.to_bits(), "group {} epoch {}", g, e);
                let (want, got) = (sequential.lr_at_f32(g, e).unwrap(), joined.lr_at_f32(g, e).unwrap());
                prop_assert_eq!(want.to_bits(), got.to_bits(), "f32, group {} epoch {}", g, e);
            }
        }
        prop_assert_eq!(
            joined.lr_at(lrs.len(), 0),
            Err(SchedError::GroupOutOfRange { group: lrs.len(), groups: lrs.len() })
        );
    }
}
