#!/usr/bin/env python3
"""sgd-cuda's C ABI (libsgd_cuda_capi.so) driven from PyTorch through ctypes.

A short training loop (an MLP on random data, on a torch CUDA stream) whose optimizer step is
`sgd_cuda_step` on the model's own CUDA tensors, enqueued on `torch.cuda.current_stream()`:

1. every step, parameters and momentum buffers are checked bit for bit against the scalar
   reference, run on CPU copies through libsgd_cpu_capi.so (sgd-cpu, bitwise equal to sgd-core's
   scalar reference update on every backend), with two groups, a cosine learning rate, a device
   grad scale (loss scaled by 1024) and a step skipped by a device found_inf;
2. the step captured inside the caller's own CUDA graph (`torch.cuda.graph`), replayed with new
   learning rates set by `sgd_cuda_set_lrs`, checked the same way;
3. the step timed on the same tensors against torch.optim.SGD(fused=True), both eager and both
   replayed as CUDA graphs (ours: sgd_cuda_capture_graph; torch: torch.cuda.graph around step()).

Usage: torch_ctypes.py [--lib-dir DIR] [--steps N] [--hidden H] [--json OUT]
  DIR holds libsgd_cuda_capi.so and libsgd_cpu_capi.so (default: $SGD_LIB_DIR, else
  target/release of this repository). Exit status 0 only if every check passed.
"""
import argparse
import ctypes
import json
import math
import os
import sys

import torch

# The timing of the torch peer benchmark (same warm-up, calibration and median of 5).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from torch_cuda_sgd import time_per_call  # noqa: E402

c_double_p = ctypes.POINTER(ctypes.c_double)


class Config(ctypes.Structure):
    """sgd_cuda_config (sgd_cuda.h) and sgd_config (sgd_cpu.h): the same fields."""
    _fields_ = [("lr", ctypes.c_double), ("momentum", ctypes.c_double),
                ("dampening", ctypes.c_double), ("weight_decay", ctypes.c_double),
                ("nesterov", ctypes.c_uint32), ("maximize", ctypes.c_uint32)]


class CudaTensor(ctypes.Structure):
    """sgd_cuda_tensor: device pointers."""
    _fields_ = [("param", ctypes.c_void_p), ("grad", ctypes.c_void_p),
                ("momentum_buffer", ctypes.c_void_p), ("numel", ctypes.c_size_t),
                ("group", ctypes.c_uint32), ("initialized", ctypes.c_uint32)]


class CpuTensor(ctypes.Structure):
    """sgd_tensor (sgd_cpu.h): host pointers."""
    _fields_ = [("param", ctypes.c_void_p), ("grad", ctypes.c_void_p),
                ("momentum_buffer", ctypes.c_void_p), ("initialized", ctypes.c_void_p),
                ("numel", ctypes.c_size_t)]


class CpuGroup(ctypes.Structure):
    """sgd_group (sgd_cpu.h)."""
    _fields_ = [("config", Config), ("tensors", ctypes.POINTER(CpuTensor)),
                ("n_tensors", ctypes.c_size_t)]


def load(lib_dir):
    cuda = ctypes.CDLL(os.path.join(lib_dir, "libsgd_cuda_capi.so"))
    cuda.sgd_cuda_create.argtypes = [ctypes.c_int32, ctypes.c_void_p, ctypes.POINTER(Config),
                                     ctypes.c_size_t, ctypes.POINTER(CudaTensor), ctypes.c_size_t,
                                     ctypes.POINTER(ctypes.c_void_p)]
    for name in ("sgd_cuda_step", "sgd_cuda_set_lrs"):
        getattr(cuda, name).argtypes = [ctypes.c_void_p, c_double_p, ctypes.c_size_t]
    cuda.sgd_cuda_set_grad_scaler.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    cuda.sgd_cuda_capture_graph.argtypes = [ctypes.c_void_p]
    cuda.sgd_cuda_release_graph.argtypes = [ctypes.c_void_p]
    cuda.sgd_cuda_destroy.argtypes = [ctypes.c_void_p]
    cuda.sgd_cuda_destroy.restype = None
    cuda.sgd_cuda_last_error_message.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    cuda.sgd_cuda_last_error_message.restype = ctypes.c_size_t
    cpu = ctypes.CDLL(os.path.join(lib_dir, "libsgd_cpu_capi.so"))
    cpu.sgd_step.argtypes = [ctypes.c_void_p, ctypes.POINTER(CpuGroup), ctypes.c_size_t,
                             ctypes.POINTER(ctypes.c_float), ctypes.c_uint32]
    cpu.sgd_last_error_message.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    cpu.sgd_last_error_message.restype = ctypes.c_size_t
    return cuda, cpu


def check(lib, status, what, message_fn):
    """Raises with the library's message on a negative status."""
    if status < 0:
        buf = ctypes.create_string_buffer(512)
        getattr(lib, message_fn)(buf, len(buf))
        raise RuntimeError(f"{what}: status {status}: {buf.value.decode()}")
    return status


def lr_array(lrs):
    return (ctypes.c_double * len(lrs))(*lrs)


class Reference:
    """CPU copies of parameters and momentum buffers, stepped by libsgd_cpu_capi."""

    def __init__(self, cpu, params, group_of, configs):
        self.cpu, self.group_of, self.configs = cpu, group_of, configs
        self.params = [p.detach().cpu().clone() for p in params]
        self.bufs = [torch.zeros_like(p) for p in self.params]
        self.init = (ctypes.c_uint8 * len(params))()

    def step(self, grads, lrs, grad_scale=None, found_inf=False):
        lists = [[] for _ in self.configs]
        for i, (p, g, b) in enumerate(zip(self.params, grads, self.bufs)):
            flag = ctypes.addressof(self.init) + i
            lists[self.group_of[i]].append(CpuTensor(p.data_ptr(), g.data_ptr(), b.data_ptr(),
                                                     flag, p.numel()))
        arrays = [(CpuTensor * len(l))(*l) for l in lists]
        groups = (CpuGroup * len(lists))()
        for k, (cfg, arr) in enumerate(zip(self.configs, arrays)):
            c = Config(**{f: getattr(cfg, f) for f, _ in Config._fields_})
            c.lr = lrs[k]
            groups[k] = CpuGroup(c, ctypes.cast(arr, ctypes.POINTER(CpuTensor)), len(arr))
        scale = ctypes.byref(ctypes.c_float(grad_scale)) if grad_scale is not None else None
        check(self.cpu, self.cpu.sgd_step(None, groups, len(lists), scale, int(found_inf)),
              "sgd_step (CPU reference)", "sgd_last_error_message")

    def mismatches(self, params, bufs):
        bad = 0
        for ref, got in list(zip(self.params, params)) + list(zip(self.bufs, bufs)):
            got = got.detach().cpu()
            bad += int((ref.view(torch.int32) != got.view(torch.int32)).sum())
        return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    default_dir = os.environ.get("SGD_LIB_DIR") or os.path.join(here, "..", "..", "target", "release")
    ap.add_argument("--lib-dir", default=default_dir)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("skipped: torch sees no CUDA device")
        return 0
    cuda, cpu = load(args.lib_dir)
    torch.manual_seed(0)
    dev = torch.device("cuda", torch.cuda.current_device())
    stream = torch.cuda.Stream(device=dev)  # a stream of the caller: not the legacy default one
    failures = []
    result = {"device": torch.cuda.get_device_name(dev), "torch": torch.__version__}
    with torch.cuda.stream(stream):
        h = args.hidden
        model = torch.nn.Sequential(torch.nn.Linear(64, h), torch.nn.ReLU(), torch.nn.Linear(h, h),
                                    torch.nn.ReLU(), torch.nn.Linear(h, 10)).to(dev)
        x = torch.randn(512, 64, device=dev)
        y = torch.randint(0, 10, (512,), device=dev)
        params = list(model.parameters())
        loss_fn = torch.nn.CrossEntropyLoss()
        loss_fn(model(x), y).backward()  # allocates every .grad once; they stay where they are
        group_of = [0 if p.dim() > 1 else 1 for p in params]
        configs = [Config(lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=1),   # weights
                   Config(lr=0.1, momentum=0.9, dampening=0.1)]                    # biases
        bufs = [torch.zeros_like(p) for p in params]
        grad_scale = torch.full((1,), 1024.0, device=dev)
        found_inf = torch.zeros(1, device=dev)
        tensors = (CudaTensor * len(params))(*[
            CudaTensor(p.data_ptr(), p.grad.data_ptr(), b.data_ptr(), p.numel(), g, 0)
            for p, b, g in zip(params, bufs, group_of)])
        groups = (Config * len(configs))(*configs)
        opt = ctypes.c_void_p()
        handle = torch.cuda.current_stream().cuda_stream
        check(cuda, cuda.sgd_cuda_create(dev.index, handle, groups, len(configs), tensors,
                                         len(params), ctypes.byref(opt)),
              "sgd_cuda_create", "sgd_cuda_last_error_message")
        ref = Reference(cpu, params, group_of, configs)

        # 1. A training loop stepped through the C ABI, checked every step.
        scaled = False
        for step in range(args.steps):
            model.zero_grad(set_to_none=False)
            use_scale = step >= 3
            loss = loss_fn(model(x), y) * (1024.0 if use_scale else 1.0)
            loss.backward()
            if use_scale and not scaled:
                check(cuda, cuda.sgd_cuda_set_grad_scaler(opt, grad_scale.data_ptr(), found_inf.data_ptr()),
                      "sgd_cuda_set_grad_scaler", "sgd_cuda_last_error_message")
                scaled = True
            skip = step == 6
            found_inf.fill_(1.0 if skip else 0.0)
            f = 0.5 * (1 + math.cos(math.pi * step / args.steps))
            lrs = [0.1 * f, 0.2 * f]
            check(cuda, cuda.sgd_cuda_step(opt, lr_array(lrs), len(lrs)),
                  "sgd_cuda_step", "sgd_cuda_last_error_message")
            grads = [p.grad.detach().cpu() for p in params]  # synchronises with the stream
            ref.step(grads, lrs, 1024.0 if use_scale else None, skip)
            bad = ref.mismatches(params, bufs)
            print(f"step {step:2d} loss {loss.item() / (1024.0 if use_scale else 1.0):.4f} "
                  f"lrs {lrs[0]:.4f},{lrs[1]:.4f}{' skipped (found_inf)' if skip else ''}: "
                  f"{'bitwise equal' if bad == 0 else f'{bad} values differ'}")
            if bad:
                failures.append(f"training step {step}: {bad} values differ from the reference")
        result["training_steps_checked"] = args.steps

        # 2. The step inside the caller's own graph, replayed with new learning rates.
        # The loop above may end on a skipped step: replays compare unskipped steps.
        found_inf.fill_(0.0)
        try:
            torch.cuda.synchronize()
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, stream=stream):
                status = cuda.sgd_cuda_step(opt, None, 0)
            check(cuda, status, "sgd_cuda_step in torch.cuda.graph", "sgd_cuda_last_error_message")
            grads = [p.grad.detach().cpu() for p in params]
            for k, lrs in enumerate(([0.01, 0.02], [0.03, 0.005])):
                check(cuda, cuda.sgd_cuda_set_lrs(opt, lr_array(lrs), len(lrs)),
                      "sgd_cuda_set_lrs", "sgd_cuda_last_error_message")
                graph.replay()
                ref.step(grads, lrs, 1024.0 if scaled else None, False)
                bad = ref.mismatches(params, bufs)
                print(f"torch.cuda.graph replay {k}: {'bitwise equal' if bad == 0 else f'{bad} values differ'}")
                if bad:
                    failures.append(f"caller-captured replay {k}: {bad} values differ")
            del graph
        except Exception as e:  # reported, and the run fails
            failures.append(f"caller capture: {e}")
            print(f"caller capture failed: {e}")

        # 3. Time against torch fused on the same tensors (no scaler on either side).
        check(cuda, cuda.sgd_cuda_set_grad_scaler(opt, None, None), "sgd_cuda_set_grad_scaler",
              "sgd_cuda_last_error_message")
        ours = lambda: cuda.sgd_cuda_step(opt, None, 0)  # noqa: E731
        us = lambda fn: time_per_call(torch, fn) * 1e6  # noqa: E731
        times = {"sgd-cuda-direct": us(ours)}
        check(cuda, cuda.sgd_cuda_capture_graph(opt), "sgd_cuda_capture_graph",
              "sgd_cuda_last_error_message")
        times["sgd-cuda-graph"] = us(ours)
        torch_opt = torch.optim.SGD(
            [{"params": [p for p, g in zip(params, group_of) if g == 0], "weight_decay": 1e-4,
              "nesterov": True},
             {"params": [p for p, g in zip(params, group_of) if g == 1], "dampening": 0.1}],
            lr=0.01, momentum=0.9, fused=True)
        times["torch-fused"] = us(torch_opt.step)
        torch_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(torch_graph, stream=stream):
            torch_opt.step()
        times["torch-fused-graph"] = us(torch_graph.replay)
        cuda.sgd_cuda_destroy(opt)
        torch.cuda.synchronize()
    numel = sum(p.numel() for p in params)
    print(f"step time on {len(params)} tensors, {numel} elements ({result['device']}):")
    for name, us in times.items():
        print(f"  {name:<18} {us:9.2f} us")
    print(f"  graph vs graph: {times['torch-fused-graph'] / times['sgd-cuda-graph']:.2f}x torch fused")
    result.update(tensors=len(params), elements=numel, step_us=times, failures=failures)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1)
    for f in failures:
        print(f"FAIL {f}")
    print("all checks passed" if not failures else f"{len(failures)} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
