"""CosineAnnealingLR with early stopping on the validation loss (patience 5).

    python examples/cosine_early_stopping.py           # torch's
    python examples/cosine_early_stopping.py --lrkit   # lrkit's: the same output
"""

from _common import problem, schedulers, train_epoch, validation_loss

lr_scheduler, SGD = schedulers()
model, train, val = problem()
optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=100, eta_min=1e-3)
best, bad, patience = float("inf"), 0, 5
for epoch in range(100):
    train_epoch(model, optimizer, train)
    loss = validation_loss(model, val)
    print(f"Epoch {epoch + 1}, Learning Rate: {optimizer.param_groups[0]['lr']}, Validation Loss: {loss}")
    scheduler.step()
    if loss < best:
        best, bad = loss, 0
    else:
        bad += 1
        if bad >= patience:
            print(f"Early stopping at epoch {epoch + 1}, best validation loss {best}")
            break
