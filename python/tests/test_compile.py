"""torch.compile of a training step that calls FusedSGD.step(): Dynamo cannot trace into the
extension's step, breaks the graph there and runs the step eagerly. Inductor's compiled
forward and backward are not bitwise eager's (its own kernels), and neither is a compiled
torch.optim.SGD step, so the reference is the same compiled forward and backward followed by
an eager torch.optim.SGD(foreach=False) step: the parameters must be equal bit for bit."""

from __future__ import annotations

import warnings

import torch

from lrkit.torch import FusedSGD


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))


def test_compiled_step_gives_the_same_bits():
    g = torch.Generator().manual_seed(1)
    xs = [torch.randn(4, 8, generator=g) for _ in range(6)]
    net, ref = model(), model()
    ours = FusedSGD(net.parameters(), lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9, foreach=False)

    def train_step(x):
        ours.zero_grad()
        net(x).pow(2).mean().backward()
        ours.step()

    def forward_backward(x):
        theirs.zero_grad()
        ref(x).pow(2).mean().backward()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Dynamo's note on the graph break at the step
        step, fwd_bwd = torch.compile(train_step), torch.compile(forward_backward)
        for x in xs:
            step(x)
            fwd_bwd(x)
            theirs.step()
    for a, b in zip(net.parameters(), ref.parameters(), strict=True):
        assert torch.equal(a.detach().view(torch.int32), b.detach().view(torch.int32))
