"""lrkit.torch.FusedSGD against torch.optim.SGD(foreach=False), live: randomized
hyperparameters, groups, shapes, missing grads, lrs changed between steps (floats, 0-dim
Tensors, a scheduler), checkpoints in both directions, GradScaler, and rejected input that
must leave every tensor unchanged."""

from __future__ import annotations

import copy
import random

import pytest
import torch

from lrkit.torch import FusedSGD
from lrkit.torch import lr_scheduler as L


def model(seed: int, sizes) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(*s, generator=g)) for s in sizes]


def set_grads(params, seed: int, drop: float = 0.0) -> None:
    g = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    for p in params:
        grad = torch.randn(p.shape, generator=g)
        p.grad = None if rng.random() < drop else grad


def assert_bitwise(a: list[torch.Tensor], b: list[torch.Tensor]) -> None:
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert torch.equal(x.view(torch.int32), y.view(torch.int32)), f"tensor {i}"


def config(rng: random.Random) -> dict:
    momentum = rng.choice([0.0, 0.9, rng.uniform(0.1, 0.99)])
    nesterov = momentum > 0 and rng.random() < 0.4
    return {
        "lr": rng.choice([0.1, 1e-3, rng.uniform(1e-4, 1.0)]),
        "momentum": momentum,
        "dampening": 0.0 if nesterov else rng.choice([0.0, 0.1, 0.5]),
        "weight_decay": rng.choice([0.0, 1e-4, rng.uniform(0, 0.1)]),
        "nesterov": nesterov,
        "maximize": rng.random() < 0.3,
    }


def sizes(rng: random.Random):
    return [tuple(rng.randint(1, 9) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 6))] + [
        (rng.randint(1, 300), rng.randint(1, 70))
    ]


@pytest.mark.parametrize("seed", range(40))
def test_steps_equal_torch_sgd(seed):
    rng = random.Random(seed)
    shapes = sizes(rng)
    split = rng.randint(1, len(shapes))
    cfgs = [config(rng), config(rng)]
    tensor_lr = rng.random() < 0.3
    runs = []
    for cls in (FusedSGD, torch.optim.SGD):
        params = model(seed, shapes)
        groups = [{"params": params[:split], **cfgs[0]}, {"params": params[split:], **cfgs[1]}]
        groups = [g for g in groups if g["params"]]
        if tensor_lr:
            for g in groups:
                g["lr"] = torch.tensor(g["lr"])
        extra = {"foreach": False} if cls is torch.optim.SGD else {}
        opt = cls(groups, **extra)
        for step in range(6):
            set_grads(params, 1000 * seed + step, drop=0.2)
            opt.step()
            if step == 2:  # lrs edited between steps, as a scheduler or a user does
                for g in opt.param_groups:
                    if isinstance(g["lr"], torch.Tensor):
                        g["lr"].fill_(g["lr"].item() * 0.5)
                    else:
                        g["lr"] = g["lr"] * 0.5
        runs.append((params, opt))
    (ours, ours_opt), (theirs, theirs_opt) = runs
    assert_bitwise([p.detach() for p in ours], [p.detach() for p in theirs])
    for p, q in zip(ours, theirs):
        a, b = ours_opt.state[p].get("momentum_buffer"), theirs_opt.state[q].get("momentum_buffer")
        assert (a is None) == (b is None)
        if a is not None:
            assert_bitwise([a], [b])


def test_under_a_scheduler_and_with_step_hooks():
    calls = []
    runs = []
    for cls in (FusedSGD, torch.optim.SGD):
        params = model(1, [(50, 20), (20,)])
        opt = cls(params, lr=0.1, momentum=0.9, nesterov=True)
        opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
        opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
        sched = L.OneCycleLR(opt, max_lr=0.5, total_steps=20)
        for step in range(20):
            set_grads(params, step)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
        runs.append(params)
    assert_bitwise([p.detach() for p in runs[0]], [p.detach() for p in runs[1]])
    assert calls.count("pre") == 40 and calls.count("post") == 40


def test_checkpoints_move_both_ways():
    for first, second in ((torch.optim.SGD, FusedSGD), (FusedSGD, torch.optim.SGD)):
        params = model(3, [(30, 4), (7,)])
        a = first(params, lr=0.05, momentum=0.8, weight_decay=1e-3)
        for step in range(3):
            set_grads(params, step)
            a.step()
        saved = copy.deepcopy(a.state_dict())
        twin = [torch.nn.Parameter(p.detach().clone()) for p in params]
        b = second(twin, lr=0.05, momentum=0.8, weight_decay=1e-3)
        b.load_state_dict(saved)
        assert b.state_dict()["param_groups"] == saved["param_groups"]
        for step in range(3, 7):
            set_grads(params, step)
            set_grads(twin, step)
            a.step()
            b.step()
        assert_bitwise([p.detach() for p in params], [p.detach() for p in twin])


def test_add_param_group():
    runs = []
    for cls in (FusedSGD, torch.optim.SGD):
        params = model(4, [(10,), (5, 5)])
        opt = cls(params[:1], lr=0.1, momentum=0.5)
        set_grads(params, 0)
        opt.step()
        opt.add_param_group({"params": params[1:], "lr": 0.01})
        for step in range(1, 4):
            set_grads(params, step)
            opt.step()
        runs.append(params)
    assert_bitwise([p.detach() for p in runs[0]], [p.detach() for p in runs[1]])


def test_grad_scaler_matches_torch_sgd():
    """torch.amp.GradScaler hands grad_scale and found_inf to FusedSGD (which divides the
    gradients by the scale inside the pass, as torch's fused kernels do); the result is
    torch.optim.SGD(foreach=False)'s under the same scaler (the scaler unscales its gradients
    first: the same values, the scale being a power of two), the overflowing step skipped by
    both."""
    runs = []
    for cls, extra in ((FusedSGD, {}), (torch.optim.SGD, {"foreach": False})):
        torch.manual_seed(0)
        net = torch.nn.Linear(16, 4)
        opt = cls(net.parameters(), lr=0.1, momentum=0.9, **extra)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
        g = torch.Generator().manual_seed(5)
        for step in range(8):
            x = torch.randn(32, 16, generator=g)
            loss = net(x).pow(2).mean()
            if step == 3:
                loss = loss * float("inf")  # one overflowing step: skipped by both
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        runs.append([p.detach() for p in net.parameters()])
    assert_bitwise(runs[0], runs[1])


def test_a_skipped_first_step_creates_no_buffer():
    params = model(0, [(4,)])
    opt = FusedSGD(params, lr=0.1, momentum=0.9)
    set_grads(params, 0)
    opt.found_inf = torch.tensor(1.0)
    before = params[0].detach().clone()
    opt.step()
    del opt.found_inf
    assert torch.equal(params[0].detach(), before)
    assert "momentum_buffer" not in opt.state[params[0]]


def rejected(opt, params, error, match):
    """`opt.step()` raises `error` matching `match`, and no tensor changed."""
    before = [p.detach().clone() for p in params]
    bufs = {id(p): copy.deepcopy(s) for p, s in opt.state.items()}
    with pytest.raises(error, match=match):
        opt.step()
    assert_bitwise([p.detach() for p in params], before)
    for p, s in opt.state.items():
        for k, v in s.items():
            assert torch.equal(v, bufs[id(p)][k])


def test_bad_tensors_are_refused_before_anything_is_written():
    params = model(0, [(8,), (4, 4)])
    opt = FusedSGD(params, lr=0.1, momentum=0.9)
    set_grads(params, 0)
    opt.step()
    set_grads(params, 1)
    # A float64 grad, a grad of another shape, a non-contiguous param.
    params[1].grad_dtype = None  # torch refuses a grad of another dtype unless told so
    params[1].grad = params[1].grad.double()
    rejected(opt, params, TypeError, r"param_groups\[0\]\['params'\]\[1\]: its grad has dtype torch.float64")
    params[1].grad = torch.randn(4, 4)
    params[1].grad.data = torch.randn(3)  # torch checks the shape on `.grad =` only
    rejected(opt, params, ValueError, r"\[1\]: its grad has shape \(3,\)")
    params[1].grad = torch.randn(4, 4)
    opt.param_groups[0]["lr"] = -1.0
    rejected(opt, params, ValueError, r"Invalid learning rate: -1 \(group 0")
    opt.param_groups[0]["lr"] = 0.1
    p32 = torch.nn.Parameter(torch.zeros(3, dtype=torch.complex64))
    p32.grad = torch.zeros(3, dtype=torch.complex64)
    opt.add_param_group({"params": [p32]})
    rejected(opt, params + [p32], TypeError, r"param_groups\[1\]\['params'\]\[0\]: dtype torch.complex64")
    opt.param_groups.pop()
    strided = torch.nn.Parameter(torch.zeros(4, 6)[:, ::2])
    strided.grad = torch.zeros(4, 3)
    opt.add_param_group({"params": [strided]})
    rejected(opt, params, ValueError, "not contiguous")
    opt.param_groups.pop()
    sparse = torch.nn.Parameter(torch.zeros(5))
    sparse.grad = torch.zeros(5).to_sparse()
    opt.add_param_group({"params": [sparse]})
    rejected(opt, params, TypeError, "sparse")
    opt.param_groups.pop()


def test_overlapping_tensors_are_refused():
    base = torch.zeros(10)
    a = torch.nn.Parameter(base[:6])
    # Two parameters that are views of one storage: the step would write memory twice.
    with torch.no_grad():
        b_data = a.data[3:]
    b = torch.nn.Parameter(b_data)
    a.grad, b.grad = torch.ones(6), torch.ones(3)
    opt = FusedSGD([a, b], lr=0.1)
    rejected(opt, [a, b], ValueError, "overlaps")
    # A gradient aliasing its parameter.
    c = torch.nn.Parameter(torch.ones(4))
    c.grad = c.data
    opt = FusedSGD([c], lr=0.1)
    rejected(opt, [c], ValueError, "overlaps")


def test_constructor_errors_are_torchs():
    p = model(0, [(2,)])
    for kwargs, match in (
        ({"lr": -1.0}, "Invalid learning rate: -1.0"),
        ({"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ({"weight_decay": -1}, "Invalid weight_decay value: -1"),
        ({"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ):
        with pytest.raises(ValueError, match=match):
            FusedSGD(p, **kwargs)
        with pytest.raises(ValueError, match=match):
            torch.optim.SGD(p, **kwargs)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("seed", range(12))
def test_other_dtypes_equal_torch(dtype, seed):
    """float64 against torch.optim.SGD(foreach=False); bfloat16 and float16 storage against
    torch's fused CPU SGD (widen to f32, one rounding per stored value), which sgd-core
    specifies (sgd-core README, "precision")."""
    rng = random.Random(f"{dtype}-{seed}")
    shapes = sizes(rng)
    cfg = config(rng)
    runs = []
    reference = {"foreach": False} if dtype == torch.float64 else {"fused": True}
    for cls, extra in ((FusedSGD, {}), (torch.optim.SGD, reference)):
        params = [torch.nn.Parameter(p.detach().to(dtype)) for p in model(seed, shapes)]
        opt = cls(params, **cfg, **extra)
        for step in range(5):
            g = torch.Generator().manual_seed(100 * seed + step)
            for p in params:
                p.grad = torch.randn(p.shape, generator=g).to(dtype)
            opt.step()
        runs.append((params, opt))
    (ours, ours_opt), (theirs, theirs_opt) = runs
    view = {torch.float64: torch.int64, torch.bfloat16: torch.int16, torch.float16: torch.int16}[dtype]
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert torch.equal(a.detach().view(view), b.detach().view(view)), f"param {i}"
        bufs = ours_opt.state[a].get("momentum_buffer"), theirs_opt.state[b].get("momentum_buffer")
        assert (bufs[0] is None) == (bufs[1] is None)
        if bufs[0] is not None:
            assert bufs[0].dtype == dtype and torch.equal(bufs[0].view(view), bufs[1].view(view)), f"buffer {i}"
