"""StepLR: the lr of every epoch, as the PyTorch tutorial loop prints it.

    python examples/step_lr.py           # torch.optim.lr_scheduler.StepLR, torch.optim.SGD
    python examples/step_lr.py --lrkit   # lrkit's: the same output, line for line
"""

from _common import problem, schedulers, train_epoch

lr_scheduler, SGD = schedulers()
model, train, _ = problem()
optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
scheduler = lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
for epoch in range(30):
    print(f"Epoch {epoch + 1}, Learning Rate: {optimizer.param_groups[0]['lr']}")
    train_epoch(model, optimizer, train)
    scheduler.step()
print("final weights checksum:", sum(p.double().sum().item() for p in model.parameters()))
