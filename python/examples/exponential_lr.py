"""ExponentialLR: the lr of every epoch.

    python examples/exponential_lr.py           # torch's
    python examples/exponential_lr.py --lrkit   # lrkit's: the same output
"""

from _common import problem, schedulers, train_epoch

lr_scheduler, SGD = schedulers()
model, train, _ = problem()
optimizer = SGD(model.parameters(), lr=0.1)
scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
for epoch in range(30):
    print(f"Epoch {epoch + 1}, Learning Rate: {optimizer.param_groups[0]['lr']}")
    train_epoch(model, optimizer, train)
    scheduler.step()
print("final weights checksum:", sum(p.double().sum().item() for p in model.parameters()))
