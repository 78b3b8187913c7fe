"""FusedSGD under torch's own distributed engines, gloo, 2 CPU processes: DistributedDataParallel
and ZeroRedundancyOptimizer(optimizer_class=FusedSGD). The final parameters must be bitwise
those of the same run with torch.optim.SGD(foreach=False) in FusedSGD's place."""

from __future__ import annotations

import os
import socket
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from lrkit.torch import FusedSGD


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train(rank: int, world: int, port: int, engine: str, fused: bool, out: str) -> None:
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 5))
    ddp = torch.nn.parallel.DistributedDataParallel(net)
    kwargs = {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4, "nesterov": True}
    cls = FusedSGD if fused else torch.optim.SGD
    if not fused:
        kwargs["foreach"] = False
    if engine == "zero":
        from torch.distributed.optim import ZeroRedundancyOptimizer

        opt = ZeroRedundancyOptimizer(ddp.parameters(), optimizer_class=cls, **kwargs)
    else:
        opt = cls(ddp.parameters(), **kwargs)
    g = torch.Generator().manual_seed(100 + rank)
    for _ in range(12):
        x, y = torch.randn(16, 20, generator=g), torch.randint(0, 5, (16,), generator=g)
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(ddp(x), y).backward()
        opt.step()
    if rank == 0:
        torch.save([p.detach().clone() for p in net.parameters()], out)
    dist.barrier()
    dist.destroy_process_group()


def run(engine: str, fused: bool) -> list[torch.Tensor]:
    """The final parameters of one 2-process run. gloo on a loaded machine sometimes kills a
    process ("terminate called without an active exception") at its rendezvous or at its
    teardown; the parameters are those rank 0 saved after its last step, which needs both
    ranks, so a run that saved them counts whatever its teardown did, and one that died before
    is started again (at most twice), saying so."""
    for attempt in range(3):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "params.pt")
            try:
                mp.spawn(train, args=(2, free_port(), engine, fused, out), nprocs=2, join=True)
            except mp.ProcessExitedException as e:
                print(f"{engine}: a process exited ({e})")
                if not os.path.exists(out):
                    if attempt == 2:
                        raise
                    continue
            return torch.load(out)
    raise AssertionError("unreachable")


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="torch built without gloo")
@pytest.mark.parametrize("engine", ["ddp", "zero"])
def test_distributed_runs_equal_torch_sgd(engine):
    ours, theirs = run(engine, True), run(engine, False)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert torch.equal(a.view(torch.int32), b.view(torch.int32)), f"{engine}: parameter {i}"
