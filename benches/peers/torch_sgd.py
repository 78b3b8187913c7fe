#!/usr/bin/env python3
"""Peer benchmark: torch.optim.SGD on the cases of benches/benches/sgd_cpu.rs.

Cases: one tensor of 64Ki, 1Mi, 64Mi float32 elements and 1000 tensors of 4096 elements;
torch.set_num_threads(1) and (2); implementations fused=True, foreach=True and the
for-loop (foreach=False). Hyper-parameters as the Rust bench: lr=0.01, momentum=0.9
(buffers initialised by one warm-up step: the steady state). Throughput counts 20 bytes per
element (read param, grad, buffer; write param, buffer), like the Rust bench.

Usage:  python3 benches/peers/torch_sgd.py [--quick] [--json out.json] [--ours CRITERION_DIR]
        python3 benches/peers/torch_sgd.py --same-tensors target/release/libsgd_cpu_capi.so
(--quick skips 64Mi). With --ours (criterion's output directory of the Rust bench, e.g.
target/criterion after `cargo bench -p lrkit-benches --bench sgd_cpu`) a side-by-side table
is printed: our time and GB/s, our share of the triad and axpy baselines, torch's times, and
torch fused / ours. Timing: per case, repeated batches of steps (each batch >= 0.2 s,
at least 3 steps), median and minimum of the per-step batch means. On a busy machine the
minimum (the least disturbed batch) is the better estimate of what the code can do; the
side-by-side table therefore shows both, and our side likewise shows criterion's estimate and
its fastest sample.
"""
import argparse
import ctypes
import json
import os
import statistics
import time

import torch

# Same order as the Rust bench (64M last).
CASES = [("64K", 1, 64 << 10), ("1M", 1, 1 << 20), ("1000x4096", 1000, 4096), ("64M", 1, 64 << 20)]
IMPLS = [("fused", dict(fused=True)), ("foreach", dict(foreach=True)), ("for-loop", dict(foreach=False))]
SGD_BYTES = 20


def make_params(tensors, numel):
    params = []
    for _ in range(tensors):
        p = torch.nn.Parameter(torch.ones(numel, dtype=torch.float32))
        p.grad = torch.full((numel,), 0.01, dtype=torch.float32)
        params.append(p)
    return params


def selected_cases(args):
    """(name, tensors, numel, params) of each case that --quick / --cases keep, in order."""
    for name, tensors, numel in CASES:
        if (args.quick and name == "64M") or (args.cases and name not in args.cases.split(",")):
            continue
        yield name, tensors, numel, make_params(tensors, numel)


def selected_threads(args):
    """The thread counts that --threads keeps."""
    return [t for t in (1, 2) if not args.threads or str(t) in args.threads.split(",")]


def time_steps(opt, min_batch_s=0.1, repeats=10):
    """(median, min) over `repeats` batches of the per-step batch mean."""
    opt.step()  # allocate/initialise momentum buffers
    t0 = time.perf_counter()
    opt.step()
    one = max(time.perf_counter() - t0, 1e-7)
    steps = max(3, int(min_batch_s / one))
    means = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.step()
        means.append((time.perf_counter() - t0) / steps)
    return statistics.median(means), min(means)


def criterion_seconds(root, group, bench):
    """Criterion's point estimate (slope if sampled linearly, else mean) in seconds, or None."""
    path = os.path.join(root, group, bench, "new", "estimates.json")
    if not os.path.exists(path):
        return None
    est = json.load(open(path))
    key = "slope" if est.get("slope") else "mean"
    return est[key]["point_estimate"] * 1e-9


def criterion_best(root, group, bench):
    """Fastest per-iteration time among criterion's samples, in seconds, or None."""
    path = os.path.join(root, group, bench, "new", "sample.json")
    if not os.path.exists(path):
        return None
    sample = json.load(open(path))
    return min(t / n for t, n in zip(sample["times"], sample["iters"])) * 1e-9


def comparison_table(title, root, results, ours_time, torch_key):
    """One markdown table; `ours_time(root, group, bench)` reads our side, `torch_key` torch's."""
    print()
    print(title)
    print()
    print("| case | threads | ours ms | ours GB/s | % of triad | % of axpy | torch fused ms | torch foreach ms "
          "| torch for-loop ms | fused / ours |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, tensors, numel in CASES:
        nbytes = SGD_BYTES * tensors * numel
        for threads in (1, 2):
            group = f"sgd_cpu_{name}"
            ours = ours_time(root, group, f"sgd_{threads}t")
            triad = ours_time(root, group, f"triad_{threads}t")
            axpy = ours_time(root, group, f"axpy_{threads}t")
            row = {r["impl"]: r.get(torch_key, r["seconds"]) for r in results
                   if r["case"] == name and r["threads"] == threads}
            if ours is None or len(row) < len(IMPLS):
                continue
            print(f"| {name} | {threads} | {ours * 1e3:.4f} | {nbytes / ours / 1e9:.1f} | {100 * triad / ours:.0f}% "
                  f"| {100 * axpy / ours:.0f}% | {row['fused'] * 1e3:.4f} | {row['foreach'] * 1e3:.4f} "
                  f"| {row['for-loop'] * 1e3:.4f} | {row['fused'] / ours:.2f}x |")


def side_by_side(root, results):
    comparison_table("Estimates (criterion's point estimate; torch: median batch):", root, results,
                     criterion_seconds, "seconds")
    comparison_table("Best (fastest criterion sample; torch: fastest batch):", root, results,
                     criterion_best, "best")


class SgdConfig(ctypes.Structure):
    _fields_ = [("lr", ctypes.c_double), ("momentum", ctypes.c_double), ("dampening", ctypes.c_double),
                ("weight_decay", ctypes.c_double), ("nesterov", ctypes.c_uint32), ("maximize", ctypes.c_uint32)]


class SgdTensor(ctypes.Structure):
    _fields_ = [("param", ctypes.c_void_p), ("grad", ctypes.c_void_p), ("momentum_buffer", ctypes.c_void_p),
                ("initialized", ctypes.c_void_p), ("numel", ctypes.c_size_t)]


class SgdGroup(ctypes.Structure):
    _fields_ = [("config", SgdConfig), ("tensors", ctypes.POINTER(SgdTensor)), ("n_tensors", ctypes.c_size_t)]


def load_capi(path):
    """sgd-cpu's C ABI (sgd-cpu-capi/include/sgd_cpu.h) through ctypes."""
    lib = ctypes.CDLL(os.path.abspath(path))
    lib.sgd_pool_new.restype = ctypes.c_void_p
    lib.sgd_pool_new.argtypes = [ctypes.c_size_t]
    lib.sgd_pool_free.argtypes = [ctypes.c_void_p]
    lib.sgd_step.restype = ctypes.c_int32
    lib.sgd_step.argtypes = [ctypes.c_void_p, ctypes.POINTER(SgdGroup), ctypes.c_size_t, ctypes.c_void_p,
                             ctypes.c_uint32]
    lib.sgd_backend_name.restype = ctypes.c_char_p
    lib.sgd_last_error_message.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return lib


def same_tensors(args):
    """Ours (through the C ABI) and torch's fused SGD on the very same tensors, interleaved.

    Per case and thread count, every side steps the same parameters, gradients and momentum
    buffers (torch's own, from its optimizer state): same memory, same addresses, same cache
    state. The sides are torch and one per library given (several builds of ours can be
    compared this way, A/B, in one process). Rounds rotate which side goes first; in each
    round a side runs 3 untimed steps (its threads wake, the caches hold its working set as
    after its own steps) and then `steps` timed ones, each timed on its own. The result per
    side is the median step time over all rounds, and torch / ours is their ratio; the
    spread is the range of the per-round ratios of medians. All sides are called from Python,
    so the call overhead (ctypes for ours) is included everywhere.
    """
    paths = args.same_tensors.split(",")
    libs = [load_capi(p) for p in paths]
    names = ["ours"] if len(libs) == 1 else [f"ours{k}" for k in range(len(libs))]
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}; "
          f"ours: {libs[0].sgd_backend_name().decode()}; " + ", ".join(f"{n} = {p}" for n, p in zip(names, paths)))
    rows = []
    for name, tensors, numel, params in selected_cases(args):
        nbytes = SGD_BYTES * tensors * numel
        for threads in selected_threads(args):
            torch.set_num_threads(threads)
            opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, fused=True)
            with torch.no_grad():
                opt.step()  # allocates torch's momentum buffers: the steady state from here on
            flags = (ctypes.c_uint8 * tensors)(*([1] * tensors))
            table = (SgdTensor * tensors)()
            for i, p in enumerate(params):
                buf = opt.state[p]["momentum_buffer"]
                table[i] = SgdTensor(p.data_ptr(), p.grad.data_ptr(), buf.data_ptr(),
                                     ctypes.addressof(flags) + i, numel)
            group = SgdGroup(SgdConfig(0.01, 0.9, 0.0, 0.0, 0, 0), table, tensors)
            group_ref = ctypes.byref(group)
            pools = [lib.sgd_pool_new(threads) for lib in libs]

            def stepper(lib, pool):
                def ours():
                    status = lib.sgd_step(pool, group_ref, 1, None, 0)
                    if status != 0:
                        msg = ctypes.create_string_buffer(256)
                        lib.sgd_last_error_message(msg, 256)
                        raise RuntimeError(f"sgd_step: {status} {msg.value.decode()}")
                return ours

            sides = [("torch", opt.step)] + [(n, stepper(lib, pool)) for n, lib, pool in zip(names, libs, pools)]
            steps = max(5, min(200, int(0.05 / max(nbytes / 30e9, 1e-6))))
            times = {side: [] for side, _ in sides}
            round_ratios = {n: [] for n in names}
            with torch.no_grad():
                for r in range(args.rounds):
                    k = r % len(sides)
                    medians = {}
                    for side, fn in sides[k:] + sides[:k]:
                        for _ in range(3):
                            fn()
                        ts = []
                        for _ in range(steps):
                            t0 = time.perf_counter()
                            fn()
                            ts.append(time.perf_counter() - t0)
                        times[side] += ts
                        medians[side] = statistics.median(ts)
                    for n in names:
                        round_ratios[n].append(medians["torch"] / medians[n])
            for lib, pool in zip(libs, pools):
                lib.sgd_pool_free(pool)
            t_med = statistics.median(times["torch"])
            for n in names:
                o_med = statistics.median(times[n])
                row = dict(case=name, threads=threads, side=n, torch_fused=t_med, ours=o_med, ratio=t_med / o_med,
                           ratio_min=min(round_ratios[n]), ratio_max=max(round_ratios[n]), steps=steps,
                           rounds=args.rounds)
                rows.append(row)
                print(f"{name:>10} {threads}t  torch fused {t_med * 1e3:9.4f} ms  {n} {o_med * 1e3:9.4f} ms "
                      f"({nbytes / o_med / 1e9:6.1f} GB/s)  torch/{n} {t_med / o_med:5.2f}x "
                      f"(rounds {min(round_ratios[n]):.2f}-{max(round_ratios[n]):.2f})", flush=True)
            del opt
        del params
    print()
    print(f"Same tensors, interleaved ({args.rounds} rounds; median step time; torch {torch.__version__}):")
    print()
    side_col = "| side " if len(names) > 1 else ""
    print(f"| case | threads {side_col}| torch fused ms | ours ms | ours GB/s | torch fused / ours | per-round range |")
    print("|---|---" + ("|---" if side_col else "") + "|---|---|---|---|---|")
    for r in rows:
        nbytes = SGD_BYTES * next(t * n for c, t, n in CASES if c == r["case"])
        side = f"| {r['side']} " if side_col else ""
        print(f"| {r['case']} | {r['threads']} {side}| {r['torch_fused'] * 1e3:.4f} | {r['ours'] * 1e3:.4f} | "
              f"{nbytes / r['ours'] / 1e9:.1f} | {r['ratio']:.2f}x | {r['ratio_min']:.2f}-{r['ratio_max']:.2f}x |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(torch=torch.__version__, mode="same-tensors", libs=paths, results=rows), f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 64Mi case")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--ours", help="criterion directory of the Rust bench: print a side-by-side table")
    ap.add_argument("--load", help="read torch results from this --json file instead of measuring")
    ap.add_argument("--cases", help="comma-separated subset of cases, e.g. 64M,1M")
    ap.add_argument("--threads", help="comma-separated subset of thread counts, e.g. 1")
    ap.add_argument("--same-tensors", metavar="LIB[,LIB...]",
                    help="path of libsgd_cpu_capi.so (or several builds, comma-separated, for an A/B): run "
                         "ours and torch fused on the same tensors, interleaved")
    ap.add_argument("--rounds", type=int, default=10, help="rounds of the --same-tensors mode")
    args = ap.parse_args()
    if args.same_tensors:
        same_tensors(args)
        return
    if args.load:
        results = json.load(open(args.load))["results"]
        side_by_side(args.ours, results)
        return
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    results = []
    for name, tensors, numel, params in selected_cases(args):
        nbytes = SGD_BYTES * tensors * numel
        for threads in selected_threads(args):
            torch.set_num_threads(threads)
            for impl, kwargs in IMPLS:
                opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, **kwargs)
                with torch.no_grad():
                    t, best = time_steps(opt, min_batch_s=0.3 if name == "64M" else 0.1)
                results.append(dict(case=name, threads=threads, impl=impl, seconds=t, best=best, gbps=nbytes / t / 1e9))
                print(f"{name:>10} {threads}t {impl:>8}: {t * 1e3:10.4f} ms/step (best {best * 1e3:.4f})  "
                      f"{nbytes / t / 1e9:7.2f} GB/s", flush=True)
                del opt
        del params
    print()
    print("| case | threads | fused ms | foreach ms | for-loop ms | fused GB/s |")
    print("|---|---|---|---|---|---|")
    for name, _, _ in CASES:
        for threads in (1, 2):
            row = {r["impl"]: r for r in results if r["case"] == name and r["threads"] == threads}
            if len(row) < len(IMPLS):
                continue
            print(f"| {name} | {threads} | {row['fused']['seconds'] * 1e3:.4f} | {row['foreach']['seconds'] * 1e3:.4f} | "
                  f"{row['for-loop']['seconds'] * 1e3:.4f} | {row['fused']['gbps']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(torch=torch.__version__, results=results), f, indent=1)
    if args.ours:
        side_by_side(args.ours, results)


if __name__ == "__main__":
    main()
